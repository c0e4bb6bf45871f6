import { definitionHash } from '../../engine/run-workflow.js';
import { StepFailure } from '../../engine/step-failure.js';
import { executorTable } from '../../executors/custom.js';
import { nodeHost } from '../../language/node-host.js';
import { validateSource } from '../../language/validate.js';
import { EXIT, UsageError } from '../../model/errors.js';
import type { RunRecord } from '../../model/run.js';
import { answering, type AttemptJob, checkPoolName, DEFAULT_POOL, queueBackend, queueLocation, queueName } from '../../remote/job-queue.js';
import { type JobOutcome, runAttemptJob, type WorkerWorkflow, workerWorkflow } from '../../remote/worker-attempt.js';
import { workerRecords } from '../../remote/worker-records.js';
import { hostId, leaseTtlMs } from '../../state/lease.js';
import { killGraceMs } from '../../executors/process-groups.js';
import { openRunStore } from '../../state/open-store.js';
import type { RunStore } from '../../state/run-store.js';
import { shownLocation } from '../../state/state-location.js';
import { wholeNumber } from '../flags.js';
import type { CommandIO } from '../io.js';
import { keptModel } from '../kept-model.js';
import { statePath } from '../state-path.js';

export interface WorkerOptions {
  state?: string;
  queue?: string;
  concurrency: string;
  pool: string[];
}

// `flow worker`: takes the attempts of --remote runs from the queue of each of its pools and runs them. The first
// SIGTERM (or Ctrl-C) stops taking jobs and lets those running finish and be recorded; a second one kills them
// (their claims run out and their drivers submit them again).
export async function workerCommand(options: WorkerOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const concurrency = wholeNumber('--concurrency', options.concurrency, 1);
  const pools = (options.pool.length > 0 ? options.pool : [DEFAULT_POOL]).map((p) => checkPoolName(p, '--pool'));
  killGraceMs();
  const path = statePath(options.state, io);
  const url = queueLocation(options.queue, path);
  if (url === undefined)
    throw new UsageError(
      'flow worker needs a job queue',
      'give --queue redis://HOST:PORT (or FLOW_QUEUE), or keep runs in PostgreSQL (--state postgres://…), whose queue it then uses',
    );
  const backend = await queueBackend(url);
  const store = await openRunStore(path);
  const name = `${hostId()}:${process.pid}`;
  const stop = new AbortController();
  const ttl = leaseTtlMs();
  const workflows = new Map<string, Promise<WorkerWorkflow>>();
  const runs = new Map<string, RunRecord>();
  const side = {
    store,
    records: workerRecords(store, name, ttl),
    cwd: io.cwd,
    env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
    runOf: (runId: string, runAttempt: number) => {
      const key = `${runId}#${runAttempt}`;
      let run = runs.get(key);
      if (!run) {
        run = store.getRun(runId);
        if (!run) return undefined;
        if (runs.size >= KEPT_RUNS) runs.delete(runs.keys().next().value!);
        runs.set(key, run);
      }
      return run;
    },
    workflowOf: (run: RunRecord) => {
      let found = workflows.get(run.definitionHash);
      if (!found) {
        found = rebuildWorkflow(store, run);
        // A workflow that could not be rebuilt is tried again with the next job (its modules may be there by then).
        found.catch(() => workflows.delete(run.definitionHash));
        workflows.set(run.definitionHash, found);
      }
      return found;
    },
    stop: stop.signal,
  };
  // biome-ignore lint/suspicious/noExplicitAny: BullMQ's Worker, bound to its backend.
  const workers: any[] = [];
  try {
    for (const pool of pools) {
      const worker = new backend.classes.Worker(
        queueName(pool),
        async (job: { id?: string; data: AttemptJob }) => {
          const outcome = await runAttemptJob(job.data, side);
          io.stderr(`flow worker: ${job.id} ${describe(outcome)}`);
          return outcome;
        },
        {
          connection: backend.connection,
          concurrency,
          autorun: false,
          // No re-delivery by the queue: a job whose worker died fails, and its driver decides what comes next.
          maxStalledCount: 0,
          lockDuration: Math.max(ttl, 1_000),
          stalledInterval: Math.max(ttl, 1_000),
        },
      );
      workers.push(worker);
    }
    await answering(backend.shown, workers);
    // A worker whose loop ends on an error (its connection closed for good) says so; the others go on.
    for (const w of workers) w.run().catch((err: Error) => io.stderr(`flow worker: stopped taking jobs: ${err.message}`));
    io.stderr(
      `flow worker: ${name} takes the jobs of pool${pools.length > 1 ? 's' : ''} ${pools.join(', ')} from ${backend.shown} (at most ${concurrency} at once; runs in ${shownLocation(path)})`,
    );
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.stderr('flow worker: stopping; the attempts it runs finish first (stop again to kill them)');
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    store.close();
  }
  return EXIT.ok;
}

/** How many runs' records a worker keeps (the oldest goes first): each holds its workflow's text. */
const KEPT_RUNS = 64;

/** One job's line: what came of its attempt (or of each of a chunk's). */
function describe(o: JobOutcome): string {
  const parts = [
    o.succeeded && `${o.succeeded > 1 ? `${o.succeeded} ` : ''}succeeded`,
    o.failed && `${o.failed > 1 ? `${o.failed} ` : ''}failed`,
    o.fenced &&
      `${o.fenced > 1 ? `${o.fenced} ` : ''}fenced: its driver had taken ${o.fenced > 1 ? 'them' : 'it'} back, so no result was recorded`,
    o.notQueued &&
      `${o.notQueued > 1 ? `${o.notQueued} ` : ''}skipped: not queued (done, or taken back, before this worker got ${o.notQueued > 1 ? 'them' : 'it'})`,
  ];
  return parts.filter(Boolean).join(', ');
}

/** The run's workflow as its driver validated it: the kept model, else its recorded text (when it is the text that ran). */
async function rebuildWorkflow(store: RunStore, run: RunRecord): Promise<WorkerWorkflow> {
  let workflow = keptModel(store, run);
  if (!workflow) {
    if (definitionHash(run.definition) !== run.definitionHash)
      throw new StepFailure('validation', `the workflow of run ${run.id} was recorded with secrets masked; a worker cannot rebuild it`);
    const checked = await validateSource(run.workflowPath, run.definition, nodeHost, { path: run.workflowPath });
    if (!checked.workflow) throw new StepFailure('validation', `the recorded workflow of run ${run.id} does not validate with this flow`);
    workflow = { ...checked.workflow, file: run.workflowPath, name: run.workflowName };
  }
  return workerWorkflow(workflow, await executorTable(workflow));
}
