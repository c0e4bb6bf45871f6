import type { RunRecord, RunStatus, StepAttempt } from '../model/run.js';
import type { ModelSpend } from '../model/spend.js';
import type { StoredStepResult } from './run-store.js';

/** Which runs `flow runs` lists: newest first, at most `limit` (all when undefined). */
export interface RunFilter {
  /** The status as seen now: a `running` run whose driver is gone counts as `interrupted`. */
  status?: RunStatus;
  workflow?: string;
  /** Runs that started at or after this ISO time. */
  since?: string;
  /** Runs whose id or workflow name or path contains this text. */
  text?: string;
  /** Runs listed after this one (a page's last run): newest-first order is by start time, then id. */
  after?: { startedAt: string; id: string };
  limit?: number;
}

/** A run as listed: only the columns a list needs, never the definition. */
export interface RunSummary {
  id: string;
  workflowName: string;
  workflowPath: string;
  /** As seen now: a `running` run whose owner is no longer alive is `interrupted`. */
  status: RunStatus;
  startedAt: string;
  endedAt: string | undefined;
  attempt: number;
  /** What its model calls (and its child runs') took; absent when they made none (or it was not asked). */
  ai?: ModelSpend | undefined;
}

export interface StepSpend {
  stepId: string;
  item: number;
  spend: ModelSpend;
}

export interface StoredEvent {
  seq: number;
  line: string;
}

/** One chunk of a step's stored output: whole lines as they were emitted, masked. */
export interface LogChunk {
  /** The run it belongs to: the run asked about, or one of its child runs. */
  runId: string;
  /** Its number in that run's sequence of events (0 for output recorded before events were numbered). */
  eventSeq: number;
  stepId: string;
  item: number;
  attempt: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogQuery {
  /** A step id; `id[N]` names one for_each item; a `workflow` step also selects its child runs' steps (`id/...`). */
  step?: string;
  attempt?: number;
}

export interface PruneRequest {
  /** Runs that ended before this time (ms since the epoch) go. */
  endedBefore: number;
  /** The newest this many runs stay, whatever their age. */
  keep: number;
}

export interface PruneOutcome {
  runs: number;
  /** Bytes the state file shrank by; undefined when another process kept it busy and nothing could be reclaimed yet. */
  bytesReclaimed: number | undefined;
}

// The questions `flow runs`, `show`, `logs` and `cache` ask of the state file. Top-level runs only are listed and
// pruned: a `workflow` step's child runs belong to their parent run.
export interface RunHistory {
  listRuns(filter: RunFilter): RunSummary[];
  /** The run with its status as seen now (see RunSummary.status). */
  getRun(runId: string): RunRecord | undefined;
  /** Each step's recorded result, and a `running` (or, for a stopped run, `interrupted`) entry for each attempt in flight. */
  steps(runId: string): StoredStepResult[];
  childRuns(runId: string): RunSummary[];
  /**
   * What the model calls of the run and its child runs took, per step as attempts recorded it (failed attempts
   * too). A child run's steps are named below the `workflow` step that started it (`id/...`).
   */
  modelSpend(runId: string): StepSpend[];
  /** The attempts of the run's own steps (not of for_each items, not of child runs), in the order they started. */
  stepAttempts(runId: string): StepAttempt[];
  /** Whether the run (or one of its child runs) recorded the step `LogQuery.step` names. */
  hasStep(runId: string, step: string): boolean;
  /** Stored output of the run and its child runs, each attempt's chunks together, attempts in the order they started. */
  logs(runId: string, query: LogQuery): LogChunk[];
  /** The run's events after `afterSeq`, in order, each as its --json line (output chunks as step-output lines). */
  eventsSince(runId: string, afterSeq: number, limit: number): StoredEvent[];
  /**
   * Every run's events (not their output) after the one numbered `afterId` in the file's own order, each with that
   * number as `seq`; `afterId` undefined: from the newest on (none yet).
   */
  allEventsSince(afterId: number, limit: number): StoredEvent[];
  /** The number of the newest event in the file (0: none), where allEventsSince starts. */
  lastEventId(): number;
  /** The highest number in the run's sequence of events and output; 0 when none. */
  lastEventSeq(runId: string): number;
  /** The output `logs` gives that came after `after` (per run, the highest eventSeq already read), for a follower. */
  logsSince(runId: string, query: LogQuery, after: ReadonlyMap<string, number>): LogChunk[];
  /** A number that changes whenever another connection commits to the file (PRAGMA data_version): a follower's cue to read again. */
  changeCounter(): number;
  /** Deletes old finished runs with their steps, attempts, output and child runs, in one transaction; then compacts the file. */
  prune(request: PruneRequest): PruneOutcome;
  /** Empties the step cache; returns how many entries it held. */
  clearCache(): number;
  close(): void;
}
