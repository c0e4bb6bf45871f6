import { type RemoteAttemptRequest, type RemoteSteps, WorkerLost } from '../engine/remote-steps.js';
import { StepFailure } from '../engine/step-failure.js';
import { FlowError, LeaseLostError } from '../model/errors.js';
import { addSpend } from '../model/spend.js';
import type { ActionStep } from '../model/workflow.js';
import { leaseTtlMs } from '../state/lease.js';
import { type RemoteAttempt, type RemoteAttemptKey, type RemoteScope, remoteJobId } from '../state/remote-attempts.js';
import type { RunStore } from '../state/run-store.js';
import { type AttemptJob, DEFAULT_POOL, type JobQueue } from './job-queue.js';
import { scopeSnapshot, stepsRead } from './scope-snapshot.js';

export interface DispatcherOptions {
  store: RunStore;
  queue: JobQueue;
  runId: string;
  /** The driver's owner token: every record it makes of a remote attempt passes the run's fence. */
  token: string;
  mask: (value: unknown) => unknown;
  /** The env of the groups around a step, as the engine holds it: its expressions may read steps too. */
  groupEnv: (stepId: string) => Record<string, string> | undefined;
}

interface Waiter {
  pool: string;
  resolve: (attempt: RemoteAttempt) => void;
  reject: (err: unknown) => void;
  /** When the queue was last asked about a job no worker has claimed yet. */
  askedAt: number;
  /** The queue's job that carries it: its own, or its chunk's. */
  queueJobId: string;
}

interface PendingAttempt {
  step: ActionStep;
  key: RemoteAttemptKey;
  jobId: string;
  scope: RemoteScope;
  runAttempt: number;
  reject: (err: unknown) => void;
}

/** How often the store is asked for results: soon after a submission, less often while nothing comes. */
const POLL_MIN_MS = 2;
const POLL_MAX_MS = 50;

// The driver's side of --remote: records each attempt for a worker, puts its job on the queue, and waits for the
// worker's result in the store. A worker whose claim runs out (killed, stopped, cut off), or a job that failed in the
// queue before any worker claimed it, is revoked: the worker is fenced off, and the engine submits the next attempt.
export class RemoteDispatcher implements RemoteSteps {
  private readonly waiting = new Map<string, Waiter>();
  private pending: PendingAttempt[] = [];
  private flushing: Promise<void> | undefined;
  private readonly reads = new WeakMap<ActionStep, Set<string> | 'all'>();
  private timer: NodeJS.Timeout | undefined;
  private pollMs = POLL_MIN_MS;
  private readonly ttlMs = leaseTtlMs();
  /** Claims that ran out and jobs that failed in the queue are looked for this often; results at every poll. */
  private readonly checkMs = Math.min(1_000, Math.floor(this.ttlMs / 3));
  private checkedAt = Date.now();

  constructor(private readonly o: DispatcherOptions) {}

  adopts(stepId: string, item: number, attempt: number): boolean {
    const [found] = this.o.store.remoteAttempts([remoteJobId({ runId: this.o.runId, stepId, item, attempt })]);
    return found !== undefined && found.state !== 'revoked';
  }

  async execute(request: RemoteAttemptRequest): Promise<unknown> {
    const { step, item, attempt, signal } = request;
    const key = { runId: this.o.runId, stepId: step.id, item, attempt };
    const jobId = remoteJobId(key);
    let read = this.reads.get(step);
    if (!read) {
      read = stepsRead([step, this.o.groupEnv(step.id)]);
      this.reads.set(step, read);
    }
    const scope = this.o.mask(scopeSnapshot(request.scope, read)) as ReturnType<typeof scopeSnapshot>;
    const done = new Promise<RemoteAttempt>((resolve, reject) => {
      this.waiting.set(jobId, { pool: step.runsOn ?? DEFAULT_POOL, resolve, reject, askedAt: Date.now(), queueJobId: jobId });
      this.pending.push({ step, key, jobId, scope, runAttempt: request.scope.run.attempt, reject });
    });
    // Attempts submitted in the same turn (the items a for_each starts together) are recorded in one transaction
    // and queued in one call: after this turn.
    this.scheduleFlush();
    // Stopped (a timeout, a cancel, Ctrl-C): the attempt is taken back from its worker, which then stops it.
    const onAbort = () => {
      const waiter = this.waiting.get(jobId);
      if (!waiter) return;
      try {
        this.revoke(jobId);
        waiter.reject(signal.reason);
      } catch (err) {
        waiter.reject(err);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const settled = await done;
      signal.throwIfAborted();
      return this.outcome(settled, request);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.waiting.delete(jobId);
    }
  }

  /**
   * Takes an attempt back, only while this driver still owns the run: a driver that lost its run to another must not
   * revoke what the new owner waits for. Undefined when it no longer owns it (or the attempt was never recorded).
   */
  private revoke(jobId: string): RemoteAttempt | undefined {
    try {
      return this.o.store.transaction(() => {
        this.o.store.assertOwner(this.o.runId, this.o.token);
        return this.o.store.revokeRemote(jobId);
      });
    } catch (err) {
      if (err instanceof LeaseLostError) return undefined;
      throw err;
    }
  }

  /** One flush at a time; attempts that come while one is on its way go with the next, right after it. */
  private scheduleFlush(): void {
    this.flushing ??= new Promise<void>((resolve) => setImmediate(() => resolve(this.flush()))).finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.scheduleFlush();
    });
  }

  /** Records the pending attempts (fenced by the run's lease) and queues their jobs: a chunk of items per job where the step asks. */
  private async flush(): Promise<void> {
    // An attempt stopped before its turn came (a timeout, a cancel) is neither recorded nor queued.
    const batch = this.pending.splice(0).filter((p) => this.waiting.has(p.jobId));
    if (batch.length === 0) return;
    try {
      this.o.store.transaction(() => {
        this.o.store.assertOwner(this.o.runId, this.o.token);
        for (const p of batch) this.o.store.queueRemote({ ...p.key, jobId: p.jobId, scope: p.scope }, Date.now());
      });
      const jobs: { pool: string; job: AttemptJob; ids: string[] }[] = [];
      const open = new Map<ActionStep, { job: AttemptJob; ids: string[] }>();
      for (const p of batch) {
        const ref = { stepId: p.key.stepId, item: p.key.item, attempt: p.key.attempt };
        const chunk = p.step.chunk ?? 1;
        const current = open.get(p.step);
        if (chunk > 1 && current && current.job.attempts.length < chunk && current.job.runAttempt === p.runAttempt) {
          current.job.attempts.push(ref);
          current.ids.push(p.jobId);
          continue;
        }
        const entry = { job: { runId: this.o.runId, runAttempt: p.runAttempt, attempts: [ref] }, ids: [p.jobId] };
        if (chunk > 1) open.set(p.step, entry);
        jobs.push({ pool: p.step.runsOn ?? DEFAULT_POOL, ...entry });
      }
      // A chunk's job is named by its first attempt and how many it carries.
      const named = jobs.map(({ pool, job, ids }) => {
        const jobId = ids.length > 1 ? `${ids[0]}+${ids.length}` : ids[0]!;
        for (const id of ids) {
          const w = this.waiting.get(id);
          if (w) w.queueJobId = jobId;
        }
        return { pool, job, jobId };
      });
      await this.o.queue.add(named);
      this.wake();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  private outcome(a: RemoteAttempt, request: RemoteAttemptRequest): unknown {
    if (a.state !== 'done' || !a.result) {
      throw new WorkerLost(
        a.worker === undefined
          ? `its job ${a.jobId} failed in the queue before a worker took it`
          : `worker ${a.worker} stopped answering while it ran job ${a.jobId}`,
      );
    }
    const r = a.result;
    for (const line of r.lines) request.emitOutput(line.stream, line.text);
    if (r.ai) addSpend(request.spend, r.ai);
    if (r.status === 'succeeded') return r.output;
    throw new StepFailure(r.error?.class ?? 'error', r.error?.message ?? 'the step failed on its worker', r.output, r.retryAfterMs);
  }

  private wake(): void {
    this.pollMs = POLL_MIN_MS;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pollSafely(), this.pollMs);
  }

  /** A store that fails while the driver waits (a lost lease, a server gone) fails the attempts waiting, not the process. */
  private pollSafely(): void {
    try {
      this.poll();
    } catch (err) {
      this.timer = undefined;
      // The record cannot go on (a lost lease, a store that refuses): the run stops, to be resumed; a resume finds
      // what the workers record meanwhile. Anything else is asked again at the next poll.
      if (err instanceof FlowError) for (const w of this.waiting.values()) w.reject(err);
      else this.timer = setTimeout(() => this.pollSafely(), POLL_MAX_MS);
    }
  }

  private poll(): void {
    this.timer = undefined;
    if (this.waiting.size === 0) return;
    const now = Date.now();
    const check = now - this.checkedAt >= this.checkMs;
    if (check) this.checkedAt = now;
    const ids = [...this.waiting.keys()];
    let settled = 0;
    for (const a of check ? this.o.store.remoteAttempts(ids) : this.o.store.settledRemote(ids)) {
      const waiter = this.waiting.get(a.jobId);
      if (!waiter) continue;
      if (a.state === 'done' || a.state === 'revoked') {
        waiter.resolve(a);
        settled++;
      } else if (a.state === 'claimed' && a.until !== undefined && now > a.until) {
        // Its worker missed renewing its claim: revoked, so whatever it sends later is refused.
        const revoked = this.revoke(a.jobId);
        if (revoked) waiter.resolve(revoked);
        settled++;
      } else if (a.state === 'queued' && now - waiter.askedAt > this.ttlMs) {
        waiter.askedAt = now;
        // A worker that died before claiming leaves a job that fails in the queue (no stalled re-delivery). Asked
        // aside, so that a queue slow to answer does not hold up the results of the others.
        void this.o.queue.state(waiter.pool, waiter.queueJobId).then(
          (state) => {
            if (!this.waiting.has(a.jobId) || (state !== 'failed' && state !== 'unknown' && state !== 'completed')) return;
            try {
              const revoked = this.revoke(a.jobId);
              if (revoked) waiter.resolve(revoked);
            } catch (err) {
              waiter.reject(err);
            }
          },
          () => {},
        );
      }
    }
    this.pollMs = settled > 0 ? POLL_MIN_MS : Math.min(POLL_MAX_MS, this.pollMs * 2);
    if (this.waiting.size > 0 && !this.timer) this.timer = setTimeout(() => this.pollSafely(), this.pollMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
