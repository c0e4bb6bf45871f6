import type { ModelSpend } from './spend.js';
import type { WorkflowShape } from './workflow.js';

// A run and its steps as recorded: plain strings and JSON, statuses as string unions.

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'interrupted';

/**
 * Why an attempt failed, as a class that `retry.on` can name:
 * `exit:N`, `timeout`, `http:NNN`, `network`, `validation`, `cancelled`, `interrupted`, `error`.
 */
export type ErrorClass = string;

export interface StepError {
  class: ErrorClass;
  message: string;
}

/** The outcome of a step (or of one for_each item), after all its attempts. */
export interface StepResult {
  status: StepStatus;
  output: unknown;
  outputs: Record<string, unknown>;
  error: StepError | undefined;
  /** Why a step was skipped, or recovered. */
  reason: string | undefined;
  attempts: number;
  startedAt: string;
  endedAt: string | undefined;
  /** The output held a secret, so it is stored masked and cannot be restored: a resume runs the step again. */
  masked?: boolean;
}

export interface RunRecord {
  id: string;
  workflowName: string;
  workflowPath: string;
  /** The workflow file's text when the run started, so a resume runs what was started. */
  definition: string;
  definitionHash: string;
  /** Inputs with secret values masked. */
  inputs: Record<string, unknown>;
  status: RunStatus;
  startedAt: string;
  endedAt: string | undefined;
  outputs: Record<string, unknown> | undefined;
  error: StepError | undefined;
  parentRunId: string | undefined;
  /** 1 for the first run, one more for each resume. */
  attempt: number;
  /** The process driving the run, while it is running. */
  owner: RunOwner | undefined;
  /** When the owner last said it was alive (ms since the epoch). */
  heartbeatAt: number | undefined;
  /** Until when the owner holds the run unless it says it is alive again (ms since the epoch); set by the store. */
  leaseUntil?: number | undefined;
  /** Digests of the workflow's steps as it ran, so a resume can tell what changed without storing any secret. */
  shape?: WorkflowShape;
}

/** Who drives a run: a process, told apart from a later one with the same pid by its start time, and a random token. */
export interface RunOwner {
  host: string;
  pid: number;
  /** The process's start time as the system gives it (on Linux, clock ticks since boot), or '' where unknown. */
  processStart: string;
  token: string;
}

/** One attempt of a step, as recorded before it starts and completed when it ends. */
export interface StepAttempt {
  runId: string;
  stepId: string;
  /** The for_each item index, or -1 for the step itself. */
  item: number;
  attempt: number;
  status: StepStatus;
  error: StepError | undefined;
  startedAt: string;
  endedAt: string | undefined;
  /** The delay before the next attempt, when one follows. */
  delayMs: number | undefined;
  /** What the attempt's model calls took (AI steps), schema re-asks and fallbacks included; undefined when it made none. */
  ai?: ModelSpend | undefined;
  /** Which attempt of the run (1, then one more per resume) made this step attempt. */
  runAttempt?: number;
}
