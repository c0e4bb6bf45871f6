import type { Executor } from '../executors/executor.js';
import type { ModelSpend } from '../model/spend.js';
import type { ActionStep } from '../model/workflow.js';
import type { Scope } from './run-context.js';
import { StepFailure } from './step-failure.js';

// Where a driver's action attempts run when they run on workers (`flow run --remote`). The engine keeps planning,
// expressions, `if`, retries and handlers; only the attempt itself goes out, behind this interface.

export interface RemoteAttemptRequest {
  step: ActionStep;
  item: number;
  attempt: number;
  scope: Scope;
  signal: AbortSignal;
  emitOutput(stream: 'stdout' | 'stderr', text: string): void;
  /** The attempt's model spend, added to as the worker reports it. */
  spend: ModelSpend;
}

export interface RemoteSteps {
  /**
   * Whether the attempt recorded last for this step (and item) is still the queue's and its workers': after a takeover
   * the new driver waits for it instead of starting another.
   */
  adopts(stepId: string, item: number, attempt: number): boolean;
  /** Runs one attempt on a worker: its output, or a StepFailure (WorkerLost when its worker stopped answering). */
  execute(request: RemoteAttemptRequest): Promise<unknown>;
}

/** Whether a step of this type can run on a worker: it has effects, and needs nothing only the driver has. */
export function runsRemotely(executor: Executor): boolean {
  return executor.pure !== true && executor.local !== true;
}

/** A worker took the attempt and then stopped answering (killed, stopped, cut off): submitted again, as after a crash. */
export class WorkerLost extends StepFailure {
  constructor(message: string) {
    super('interrupted', message);
    this.name = 'WorkerLost';
  }
}

/** How many times one step (or item) is submitted again after losing its worker, besides its own retries. */
export const MAX_REDELIVERIES = 5;
