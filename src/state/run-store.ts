import type { RunOwner, RunRecord, RunStatus, StepAttempt, StepError, StepResult } from '../model/run.js';
import type { Workflow, WorkflowShape } from '../model/workflow.js';
import type { ConcurrencySlotStore } from './concurrency-slots.js';
import type { RemoteAttemptStore } from './remote-attempts.js';

export interface StoredStepResult {
  stepId: string;
  /** The for_each item index, or -1 for the step itself. */
  item: number;
  result: StepResult;
}

/** A chunk of a step's output: whole lines (a line longer than a chunk is cut), masked, in the run's sequence. */
export interface StoredLogChunk {
  runId: string;
  stepId: string;
  item: number;
  attempt: number;
  /** The chunk's number within its attempt. */
  seq: number;
  stream: 'stdout' | 'stderr';
  text: string;
  /** Its number in the run's sequence of events, so a follower reads events and output in one order. */
  eventSeq: number;
  /** When it was written (ms since the epoch): the time of its event line. */
  time: number;
}

/** What a claim on a recorded run found: it is now ours, another live process has it, or there is no such run. */
export type Claim =
  | { kind: 'claimed'; run: RunRecord; interrupted: number }
  | { kind: 'owned'; owner: RunOwner }
  /** It succeeded meanwhile (another resume finished it), and the claim did not ask to run it again. */
  | { kind: 'succeeded'; run: RunRecord }
  | { kind: 'unknown' };

export type OwnerAlive = (owner: RunOwner, leaseUntil: number | undefined) => boolean;

// Where runs are recorded. Every method commits before it returns, so a crash loses at most the step in flight.
export interface RunStore extends RemoteAttemptStore, ConcurrencySlotStore {
  /** Records a new run, owned by `run.owner`. */
  createRun(run: RunRecord): void;
  /**
   * Takes a recorded run over for its next attempt, in one transaction: refused while its owner is alive; else
   * its orphaned running attempts are marked interrupted and it becomes `running` under `owner`.
   */
  claimRun(runId: string, owner: RunOwner, now: number, alive: OwnerAlive, rerunSucceeded?: boolean): Claim;
  /** Says the owner is alive; false when the run has another owner now. */
  heartbeat(runId: string, token: string, now: number): boolean;
  /** Throws LeaseLostError unless `token` still owns the run: the fence every write of a driver passes. */
  assertOwner(runId: string, token: string): void;
  /**
   * Records an attempt as it stands, replacing one recorded under its number: a started one (status `running`) before
   * its step's process exists, or, for a step without outside effects, one that has ended, in a single write.
   */
  recordAttempt(attempt: StepAttempt): void;
  attemptFinished(attempt: StepAttempt): void;
  stepFinished(runId: string, stepId: string, item: number, result: StepResult): void;
  appendLog(chunk: StoredLogChunk): void;
  /** One event of a run as its JSON line (model/event-json.ts), numbered in the run's sequence. */
  appendEvent(runId: string, seq: number, type: string, line: string): void;
  /** The highest number in a run's sequence of events and output chunks; 0 when none. */
  lastEventSeq(runId: string): number;
  /** Ends the run and releases it: it has no owner afterwards. */
  finishRun(
    runId: string,
    status: RunStatus,
    endedAt: string,
    outputs: Record<string, unknown> | undefined,
    error: StepError | undefined,
  ): void;
  getRun(runId: string): RunRecord | undefined;
  /** A resume with --allow-changed runs the workflow as it is now: the run records that text from then on. */
  replaceDefinition(runId: string, definition: string, definitionHash: string, shape: WorkflowShape): void;
  /** Keeps the validated model of a workflow text (by its hash), for the build that made it. */
  saveModel(definitionHash: string, build: string, model: Workflow): void;
  loadModel(definitionHash: string, build: string): Workflow | undefined;
  stepResults(runId: string): StoredStepResult[];
  /** The highest attempt number recorded for a step (and item) of a run; 0 when none. */
  lastAttempt(runId: string, stepId: string, item: number): number;
  cacheGet(key: string, now: string): unknown;
  cachePut(key: string, value: unknown, expiresAt: string | undefined): void;
  /** Runs `fn` as one transaction: its writes are committed together or not at all. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
