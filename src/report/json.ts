import { eventLine } from '../model/event-json.js';
import type { EventListener } from '../model/events.js';
import type { LineSink, Reporter } from './reporter.js';

export interface JsonReporterOptions {
  /** Milliseconds since the epoch, stamped on each line; fixed in golden tests. */
  now?: () => number;
}

// One JSON object per event and per line (NDJSON), on stdout, as model/event-json.ts writes it. Child runs' events are
// included: they carry their own run_id, and their run-started its parent_run_id. Events arrive masked; a step's
// output is passed through as the step gave it.
export function jsonReporter(write: LineSink, options: JsonReporterOptions = {}): Reporter {
  const now = options.now ?? Date.now;
  const listener: EventListener = (event) => write(eventLine(event, now()));
  return { listener, close: () => {} };
}
