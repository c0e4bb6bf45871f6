import type { RunRecord, RunStatus, StepAttempt, StepError, StepResult } from '../model/run.js';

export interface StoredStepResult {
  stepId: string;
  /** The for_each item index, or -1 for the step itself. */
  item: number;
  result: StepResult;
}

// Where runs are recorded. Every method commits before it returns, so a crash loses at most the step in flight.
export interface RunStore {
  createRun(run: RunRecord): void;
  attemptStarted(attempt: StepAttempt): void;
  attemptFinished(attempt: StepAttempt): void;
  stepFinished(runId: string, stepId: string, item: number, result: StepResult): void;
  finishRun(
    runId: string,
    status: RunStatus,
    endedAt: string,
    outputs: Record<string, unknown> | undefined,
    error: StepError | undefined,
  ): void;
  getRun(runId: string): RunRecord | undefined;
  stepResults(runId: string): StoredStepResult[];
  attempts(runId: string): StepAttempt[];
  listRuns(limit: number): RunRecord[];
  cacheGet(key: string, now: string): unknown;
  cachePut(key: string, value: unknown, expiresAt: string | undefined): void;
  /** Runs `fn` as one transaction: its writes are committed together or not at all. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
