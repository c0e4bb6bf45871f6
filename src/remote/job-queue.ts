import { importModule } from '../model/import-module.js';
import { QueueError } from '../model/errors.js';
import { parseStoreUrl } from '../state/postgres/pg-open.js';
import { isPostgresUrl, shownLocation } from '../state/state-location.js';

// The queue that carries attempts to workers: BullMQ, on Redis (--queue redis://…) or on the PostgreSQL that holds
// the runs. A job carries references only (run, step, item, attempt); its id is `run.step.item.attempt`, so adding it
// again while it is in the queue adds nothing. BullMQ's own retries and stalled re-delivery are off: a job whose worker
// died fails in the queue, and the driver, which keeps the retries, decides what comes next.

/** A job: one attempt, or a chunk of for_each items' attempts (`chunk: N`), of one run. References only. */
export interface AttemptJob {
  runId: string;
  /** The run's own attempt (1, then one more per resume): a worker keeps a run's record per attempt. */
  runAttempt: number;
  attempts: { stepId: string; item: number; attempt: number }[];
}

/** BullMQ's classes bound to one backend, and the connection option they take. */
export interface QueueBackend {
  shown: string;
  // biome-ignore lint/suspicious/noExplicitAny: BullMQ's classes are generic over their backend; flow only names them.
  classes: { Queue: new (name: string, opts: any) => any; Worker: new (name: string, processor: any, opts: any) => any };
  connection: unknown;
}

export interface JobQueue {
  readonly shown: string;
  /** Adds jobs, each under its id: one that is still in the queue is not added again. */
  add(jobs: readonly { pool: string; job: AttemptJob; jobId: string }[]): Promise<void>;
  /** The job's state in the queue: waiting, active, completed, failed, …, or unknown when it is not there. */
  state(pool: string, jobId: string): Promise<string>;
  close(): Promise<void>;
}

const POOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const DEFAULT_POOL = 'default';

/** A pool's queue: workers started with --pool NAME take the jobs of steps with `runs_on: NAME`. */
export function queueName(pool: string): string {
  return `flow-${pool}`;
}

export function checkPoolName(pool: string, where: string): string {
  if (!POOL_NAME.test(pool)) throw new QueueError(where, `'${pool}' is not a pool name (letters, digits, - and _)`);
  return pool;
}

/** Where the queue is: --queue or FLOW_QUEUE, else the PostgreSQL store itself; a state file needs one named. */
export function queueLocation(given: string | undefined, state: string): string | undefined {
  const url = given || process.env['FLOW_QUEUE'] || undefined;
  if (url !== undefined) return url;
  return isPostgresUrl(state) ? state : undefined;
}

// BullMQ (and ioredis or its PostgreSQL backend) load only here: a local run never pays for them.
export async function queueBackend(url: string): Promise<QueueBackend> {
  const shown = shownLocation(url);
  if (/^rediss?:\/\//i.test(url)) {
    const { Queue, Worker } = (await importModule('bullmq')) as unknown as typeof import('bullmq');
    return { shown, classes: { Queue, Worker }, connection: redisOptions(url) };
  }
  if (isPostgresUrl(url)) {
    const { withBackend, createPostgresBackend } = (await importModule('bullmq')) as unknown as typeof import('bullmq');
    const { connection, schema } = parseStoreUrl(url);
    const { Queue, Worker } = withBackend(createPostgresBackend);
    // BullMQ's tables in a schema of their own beside flow's; migrated (under its advisory lock) on first use.
    return { shown, classes: { Queue, Worker }, connection: { connectionString: connection, schema: `${schema}_queue`, migrate: true } };
  }
  throw new QueueError(shown, 'a job queue is a redis://, rediss:// or postgres:// URL');
}

function redisOptions(url: string): Record<string, unknown> {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new QueueError(shownLocation(url), `'${u.pathname.slice(1)}' is not a Redis database number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's blocking commands must wait out a reconnect, not fail after a few tries.
    maxRetriesPerRequest: null,
  };
}

/** The driver's side of the queue: one BullMQ Queue per pool, opened on first use and checked to answer. */
export async function openJobQueue(url: string): Promise<JobQueue> {
  const backend = await queueBackend(url);
  // biome-ignore lint/suspicious/noExplicitAny: see QueueBackend.
  const queues = new Map<string, Promise<any>>();
  const queueOf = (pool: string) => {
    let queue = queues.get(pool);
    if (!queue) {
      const q = new backend.classes.Queue(queueName(pool), { connection: backend.connection });
      queue = answering(backend.shown, [q]).then(
        () => q,
        async (err) => {
          await q.close().catch(() => {});
          throw err;
        },
      );
      queues.set(pool, queue);
    }
    return queue;
  };
  await queueOf(DEFAULT_POOL);
  return {
    shown: backend.shown,
    async add(jobs) {
      const pools = new Map<string, { name: string; data: AttemptJob; opts: Record<string, unknown> }[]>();
      for (const { pool, job, jobId } of jobs) {
        const list = pools.get(pool) ?? [];
        list.push({ name: 'attempt', data: job, opts: { jobId, attempts: 1, removeOnComplete: true, removeOnFail: { count: 10_000 } } });
        pools.set(pool, list);
      }
      // The queue's client waits out a reconnect for ever: a run must not, so a queue gone this long stops it.
      let timer: NodeJS.Timeout | undefined;
      const gone = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueueError(backend.shown, `no answer in ${ADD_MS / 1000} s while queueing jobs`)), ADD_MS);
      });
      try {
        await Promise.race([Promise.all([...pools].map(async ([pool, list]) => (await queueOf(pool)).addBulk(list))), gone]);
      } finally {
        clearTimeout(timer);
      }
    },
    async state(pool, jobId) {
      return (await queueOf(pool)).getJobState(jobId);
    },
    async close() {
      const all = await Promise.allSettled(queues.values());
      await Promise.allSettled(all.flatMap((q) => (q.status === 'fulfilled' ? [q.value.close()] : [])));
    },
  };
}

/**
 * Resolves once every queue (or worker) is connected; the first connection error, or no answer within CONNECT_MS,
 * rejects with one QueueError. Later errors (a reconnect) are BullMQ's to retry: they must have a listener, or Node
 * would end the process on the first one.
 */
// biome-ignore lint/suspicious/noExplicitAny: see QueueBackend.
export function answering(shown: string, parts: any[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new QueueError(shown, reason));
    };
    const timer = setTimeout(() => fail(`no answer in ${CONNECT_MS / 1000} s`), CONNECT_MS);
    for (const part of parts) part.on('error', (err: Error) => fail(err.message || String(err)));
    Promise.all(parts.map((p) => p.waitUntilReady())).then(
      () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      },
      (err: Error) => fail(err.message),
    );
  });
}

/** How long queueing jobs may take before the run stops (resumable) instead of waiting on. */
const ADD_MS = 60_000;

/** How long a queue may take to answer when first opened. */
export const CONNECT_MS = 10_000;
