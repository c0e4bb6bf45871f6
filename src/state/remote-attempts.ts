import type { StepError } from '../model/run.js';
import type { ModelSpend } from '../model/spend.js';

// The record of step attempts that run on workers (`flow run --remote`, `flow worker`). The queue only carries a
// job's id: what to run, who holds it and what came of it are here, in the store both sides share.

/** queued by the driver → claimed by one worker → done with its result; revoked when the driver gave up on it. */
export type RemoteState = 'queued' | 'claimed' | 'done' | 'revoked';

export interface RemoteAttemptKey {
  runId: string;
  stepId: string;
  /** The for_each item index, or -1. */
  item: number;
  attempt: number;
}

/** What the driver's scope held that a worker cannot read from the store: the item, the previous output, steps read. */
export interface RemoteScope {
  item?: unknown;
  index?: number;
  previous: unknown;
  /** The steps.<id> entries the step's expressions read (as the driver saw them, secrets masked). */
  steps: Record<string, unknown>;
}

/** What a worker's attempt came to: its output or error, its output lines and model spend, all masked. */
export interface RemoteResult {
  status: 'succeeded' | 'failed';
  output: unknown;
  error?: StepError | undefined;
  /** A server's Retry-After, for the driver's next delay. */
  retryAfterMs?: number | undefined;
  lines: { stream: 'stdout' | 'stderr'; text: string }[];
  ai?: ModelSpend | undefined;
}

export interface RemoteAttempt extends RemoteAttemptKey {
  /** The job's id in the queue: `run.step.item.attempt`. */
  jobId: string;
  state: RemoteState;
  scope: RemoteScope;
  /** The worker that claimed it (its host and pid), and until when its claim holds without renewal (ms since the epoch). */
  worker: string | undefined;
  until: number | undefined;
  result: RemoteResult | undefined;
  queuedAt: number;
}

/** A result as a worker records it: under the token it claimed the attempt with. */
export interface RemoteFinish {
  jobId: string;
  token: string;
  result: RemoteResult;
}

export interface RemoteAttemptStore {
  /** Records an attempt for a worker to take; a second call for the same job leaves the first as it is. */
  queueRemote(attempt: RemoteAttemptKey & { jobId: string; scope: RemoteScope }, now: number): void;
  /** Gives the queued ones of these attempts to the worker holding `token`; answers those it now holds. */
  claimRemote(jobIds: readonly string[], token: string, worker: string, until: number): RemoteAttempt[];
  /** Extends the worker's claims; answers the ids still its own (a revoked one is not). */
  renewRemote(jobIds: readonly string[], token: string, until: number): string[];
  /** Records workers' results, each only while the claim of its token holds (the fence); answers the ids recorded. */
  finishRemote(results: readonly RemoteFinish[]): string[];
  /** Takes an unfinished attempt back from the queue and any worker; returns it as it stands after (done if its result came first). */
  revokeRemote(jobId: string): RemoteAttempt | undefined;
  remoteAttempts(jobIds: readonly string[]): RemoteAttempt[];
  /** Those of these attempts that are over: done (with a result) or revoked. What a driver polls for. */
  settledRemote(jobIds: readonly string[]): RemoteAttempt[];
}

/** The job id of an attempt: deterministic, so submitting it again while it is in the queue adds nothing. */
export function remoteJobId(key: RemoteAttemptKey): string {
  return `${key.runId}.${key.stepId}.${key.item}.${key.attempt}`;
}
