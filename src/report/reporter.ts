import type { EventListener } from '../model/events.js';
import type { Palette } from './palette.js';
import type { StepIndex } from './step-index.js';

/** What every reporter is given besides the events: where the steps are, how to continue the run, the clock. */
export interface ReportContext {
  index: StepIndex;
  /** The workflow file as the user named it (relative to cwd when it is under it). */
  workflowFile: string;
  /** The exact command that continues this run (see resumeCommand in src/cli/drive-run.ts). */
  resumeCommand: string;
  palette: Palette;
  /** The run's secret values as given (unmasked): only for registering them with a log that masks (GitHub's add-mask). */
  secrets: readonly string[];
  verbose: boolean;
  /** Milliseconds since the epoch; fixed in golden tests. */
  now: () => number;
}

/** A subscriber to the run's events that may have something to finish when the run is over (a file, a redraw). */
export interface Reporter {
  listener: EventListener;
  /** Called once, after the last event, also when the run stopped on an error of flow's own. */
  close(): void | Promise<void>;
}

/** Writes one line; the sink adds the newline. */
export type LineSink = (line: string) => void;
