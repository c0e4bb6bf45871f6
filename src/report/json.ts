import type { EventListener, EventOf, FlowEvent, FlowEventType } from '../model/events.js';
import type { RunRecord, StepError, StepResult } from '../model/run.js';
import { aiJson } from './ai-spend.js';
import type { LineSink, Reporter } from './reporter.js';

/** Raised only for a change that breaks a consumer (a field removed or renamed, a meaning changed); additions keep it. */
export const EVENTS_SCHEMA_VERSION = 1;

export interface JsonReporterOptions {
  /** Milliseconds since the epoch, stamped on each line; fixed in golden tests. */
  now?: () => number;
}

type Fields = Record<string, unknown>;

// One JSON object per event and per line (NDJSON), on stdout, described by schema/events.schema.json.
// The names are snake_case and every field is always present (null when absent), so a consumer in any language
// reads them without guessing. Child runs' events are included: they carry their own run_id, and their
// run-started its parent_run_id. Events arrive masked; a step's output is passed through as the step gave it.
export function jsonReporter(write: LineSink, options: JsonReporterOptions = {}): Reporter {
  const now = options.now ?? Date.now;
  const fields = fieldsOf({
    'run-started': (e) => ({ run: runJson(e.run), resumed: e.resumed }),
    'run-finished': (e) => ({
      run_id: e.runId,
      status: e.status,
      duration_ms: e.durationMs,
      error: errorJson(e.error),
      outputs: e.outputs ?? null,
      at: e.at,
    }),
    'step-started': (e) => ({ ...stepKey(e), attempt: e.attempt, kind: e.kind, at: e.at }),
    'step-items': (e) => ({ ...stepKey(e), count: e.count }),
    'step-output': (e) => ({ ...stepKey(e), attempt: e.attempt, stream: e.stream, text: e.text }),
    'step-tokens': (e) => ({ ...stepKey(e), attempt: e.attempt, text: e.text }),
    'step-retrying': (e) => ({
      ...stepKey(e),
      attempt: e.attempt,
      delay_ms: e.delayMs,
      error: errorJson(e.error),
      at: e.at,
      ai: e.ai ? aiJson(e.ai) : null,
    }),
    'step-finished': (e) => ({
      ...stepKey(e),
      kind: e.kind,
      attempt: e.attempt,
      duration_ms: e.durationMs,
      result: resultJson(e.result),
      ai: e.ai ? aiJson(e.ai) : null,
    }),
    'step-restored': (e) => ({ ...stepKey(e), result: resultJson(e.result) }),
    'cache-hit': (e) => ({ ...stepKey(e), key: e.key }),
    log: (e) => ({ run_id: e.runId, level: e.level, message: e.message }),
  });
  const listener: EventListener = (event) => {
    const line = { schema_version: EVENTS_SCHEMA_VERSION, type: event.type, time: new Date(now()).toISOString(), ...fields(event) };
    // JSON.stringify escapes every newline inside strings, so one event is always one line.
    write(JSON.stringify(line));
  };
  return { listener, close: () => {} };
}

/** Each event type's fields: a mapped type, so the compiler checks that none is forgotten (as `dispatch` does). */
type FieldMakers = { [T in FlowEventType]: (event: EventOf<T>) => Fields };

function fieldsOf(makers: FieldMakers): (event: FlowEvent) => Fields {
  return (event) => (makers[event.type] as (e: FlowEvent) => Fields)(event);
}

function stepKey(e: { runId: string; stepId: string; item: number }): Fields {
  return { run_id: e.runId, step_id: e.stepId, item: e.item };
}

// Not the definition (the whole workflow text, large) nor the owner and heartbeat (the lease, internal).
function runJson(run: RunRecord): Fields {
  return {
    id: run.id,
    workflow_name: run.workflowName,
    workflow_path: run.workflowPath,
    attempt: run.attempt,
    parent_run_id: run.parentRunId ?? null,
    inputs: run.inputs,
    started_at: run.startedAt,
  };
}

function resultJson(r: StepResult): Fields {
  return {
    status: r.status,
    output: r.output ?? null,
    outputs: r.outputs,
    error: errorJson(r.error),
    reason: r.reason ?? null,
    attempts: r.attempts,
    started_at: r.startedAt,
    ended_at: r.endedAt ?? null,
    masked: r.masked === true,
  };
}

function errorJson(error: StepError | undefined): Fields | null {
  return error ? { class: error.class, message: error.message } : null;
}
