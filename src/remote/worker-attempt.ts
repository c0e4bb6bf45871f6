import { flowStepEnv, idempotencyKey, resolveStep } from '../engine/action-runner.js';
import { renderValues, resolveValue } from '../engine/expressions.js';
import { SecretMasker, secretValues } from '../engine/masking.js';
import { groupEnvironments } from '../engine/run-context.js';
import { StepFailure, toStepError } from '../engine/step-failure.js';
import type { Executor, StepContext } from '../executors/executor.js';
import type { RunRecord } from '../model/run.js';
import { addCall, noSpend } from '../model/spend.js';
import { actionSteps, runSections } from '../model/step-lists.js';
import type { ActionStep, Workflow } from '../model/workflow.js';
import { leaseTtlMs } from '../state/lease.js';
import { type RemoteAttempt, type RemoteFinish, type RemoteResult, remoteJobId } from '../state/remote-attempts.js';
import type { RunStore } from '../state/run-store.js';
import type { AttemptJob } from './job-queue.js';
import type { WorkerRecords } from './worker-records.js';

/** A workflow as a worker runs its steps: its model, its executor table, its groups' env. */
export interface WorkerWorkflow {
  workflow: Workflow;
  executors: ReadonlyMap<string, Executor>;
  groupEnv: ReadonlyMap<string, Record<string, string>>;
}

export interface WorkerSide {
  store: RunStore;
  /** Claims and results, sent to the store together with those of the worker's other jobs. */
  records: WorkerRecords;
  cwd: string;
  /** The worker's own environment: the secrets its steps read come from here, never from the driver. */
  env: Record<string, string>;
  /** The run's record as of its attempt `runAttempt` (kept: it does not change while that attempt runs). */
  runOf(runId: string, runAttempt: number): RunRecord | undefined;
  /** The workflow of a run, rebuilt from the store (kept per workflow text). */
  workflowOf(run: RunRecord): Promise<WorkerWorkflow>;
  /** Aborted by a forced stop (a second SIGTERM): nothing more is recorded. */
  stop: AbortSignal;
}

/** What came of a job's attempts: recorded (by status), fenced (taken back meanwhile), or not queued any more. */
export interface JobOutcome {
  succeeded: number;
  failed: number;
  fenced: number;
  notQueued: number;
}

/** The longest output a remote attempt sends back; the rest is cut, with a line that says so. */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
/** Results of a chunk are recorded as they come, at most this long after the first of them. */
const RECORD_EVERY_MS = 1_000;

// One job on a worker, its attempts (one, or a chunk of for_each items): claim them with a fresh token, rebuild each
// step and its scope from the store, run them one after another with the same executors a local run uses, and
// record each result only while its claim holds.
export async function runAttemptJob(job: AttemptJob, w: WorkerSide): Promise<JobOutcome> {
  const ttl = leaseTtlMs();
  const ids = job.attempts.map((a) => remoteJobId({ runId: job.runId, ...a }));
  const claim = await w.records.claim(ids);
  const token = claim.token;
  const claimed = new Map(claim.claimed.map((a) => [a.jobId, a]));
  const outcome: JobOutcome = { succeeded: 0, failed: 0, fenced: 0, notQueued: ids.length - claimed.size };
  if (claimed.size === 0) return outcome;
  const held = new Set(claimed.keys());
  const running = new Map<string, AbortController>();
  const renew = setInterval(
    () => {
      let still: Set<string>;
      try {
        still = new Set(w.store.renewRemote([...held], token, Date.now() + ttl));
      } catch {
        // The store did not answer: the claims run out unless a later renewal gets through.
        return;
      }
      for (const id of held) {
        if (still.has(id)) continue;
        held.delete(id);
        running.get(id)?.abort(new StepFailure('interrupted', 'its driver took this attempt back'));
      }
    },
    Math.max(100, Math.floor(ttl / 3)),
  );
  let results: RemoteFinish[] = [];
  let recordTimer: NodeJS.Timeout | undefined;
  // One recording at a time: results that failed to record are kept for the next one.
  let recording = Promise.resolve();
  const recordOnce = async () => {
    const batch = results;
    results = [];
    if (batch.length === 0) return;
    let recorded: ReadonlySet<string>;
    try {
      recorded = await w.records.finish(batch);
    } catch (err) {
      results = [...batch, ...results];
      throw err;
    }
    for (const r of batch) {
      if (!recorded.has(r.jobId)) outcome.fenced++;
      else if (r.result.status === 'succeeded') outcome.succeeded++;
      else outcome.failed++;
      held.delete(r.jobId);
    }
  };
  const record = () => {
    if (recordTimer) clearTimeout(recordTimer);
    recordTimer = undefined;
    recording = recording.catch(() => {}).then(recordOnce);
    return recording;
  };
  try {
    for (const id of ids) {
      const attempt = claimed.get(id);
      if (!attempt) continue;
      if (w.stop.aborted || !held.has(id)) {
        outcome.fenced++;
        continue;
      }
      const revoked = new AbortController();
      running.set(id, revoked);
      const result = await attemptResult(job, attempt, w, AbortSignal.any([revoked.signal, w.stop]));
      running.delete(id);
      // A forced stop: what was cut short is not a result; its claim runs out and its driver submits it again.
      if (w.stop.aborted) {
        outcome.fenced++;
        continue;
      }
      results.push({ jobId: id, token, result });
      // Recorded with the chunk's next results, but never later than RECORD_EVERY_MS after it ended.
      recordTimer ??= setTimeout(() => {
        // The store did not answer: the chunk's end records them, or their claims run out.
        record().catch(() => {});
      }, RECORD_EVERY_MS);
    }
    await record();
  } finally {
    clearInterval(renew);
    if (recordTimer) clearTimeout(recordTimer);
  }
  return outcome;
}

async function attemptResult(job: AttemptJob, claimed: RemoteAttempt, w: WorkerSide, signal: AbortSignal): Promise<RemoteResult> {
  const { stepId, item, attempt } = claimed;
  const lines: RemoteResult['lines'] = [];
  const spend = noSpend();
  let size = 0;
  const push = (stream: 'stdout' | 'stderr', text: string) => {
    if (size >= MAX_OUTPUT_CHARS) return;
    size += text.length;
    const last = lines.at(-1);
    if (last?.stream === stream) last.text += text;
    else lines.push({ stream, text });
    if (size >= MAX_OUTPUT_CHARS) lines.push({ stream: 'stderr', text: '\n[flow: output beyond 4 MB was not sent back by the worker]\n' });
  };
  let masker = new SecretMasker([]);
  const finished = (r: Omit<RemoteResult, 'lines' | 'ai'>): RemoteResult =>
    masker.value({ ...r, lines, ...(spend.calls > 0 ? { ai: spend } : {}) }) as RemoteResult;
  try {
    const run = w.runOf(job.runId, job.runAttempt);
    if (!run) throw new StepFailure('validation', `run ${job.runId} is not in this worker's state store`);
    const { workflow, executors, groupEnv } = await w.workflowOf(run);
    const step = findStep(workflow, stepId);
    if (!step) throw new StepFailure('validation', `the workflow of run ${run.id} has no step '${stepId}'`);
    const executor = executors.get(step.type);
    if (!executor) throw new StepFailure('validation', `this worker has no executor for step type '${step.type}'`);
    const secrets = Object.fromEntries(workflow.secrets.map((name) => [name, w.env[name] ?? '']));
    masker = new SecretMasker(secretValues(workflow, run.inputs, w.env));
    const runScope = { id: run.id, attempt: run.attempt, workflow: run.workflowPath, name: run.workflowName, started_at: run.startedAt };
    const workflowEnv = renderValues(await resolveValue(workflow.env, { inputs: run.inputs, env: w.env, secrets, run: runScope }));
    const scope = {
      inputs: run.inputs,
      env: { ...w.env, ...workflowEnv },
      secrets,
      run: runScope,
      steps: claimed.scope.steps,
      previous: claimed.scope.previous,
      ...(claimed.scope.index === undefined ? {} : { item: claimed.scope.item, index: claimed.scope.index }),
    };
    const { config, stepEnv } = await resolveStep(executor, step, scope, groupEnv.get(stepId));
    const key = idempotencyKey(job.runId, stepId, item);
    const context: StepContext = {
      runId: job.runId,
      stepId,
      attempt,
      item,
      idempotencyKey: key,
      signal,
      cwd: w.cwd,
      env: { ...scope.env, ...stepEnv, ...flowStepEnv(job.runId, stepId, attempt, key) },
      previous: scope.previous,
      inputs: run.inputs,
      workflowFile: workflow.file,
      models: workflow.models,
      emitOutput: push,
      emitTokens: (text) => push('stdout', text),
      reportModelCall: (call) => addCall(spend, call),
      runChildWorkflow: async () => {
        throw new StepFailure('unavailable', 'a workflow step runs in its driver, not on a worker');
      },
    };
    const output = await executor.execute(config, context);
    return finished({ status: 'succeeded', output: output ?? null });
  } catch (err) {
    const failure = err instanceof StepFailure ? err : undefined;
    const error = signal.aborted ? toStepError(signal.reason) : toStepError(err);
    return finished({
      status: 'failed',
      output: failure?.output ?? null,
      error,
      ...(failure?.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
    });
  }
}

/** A step by id anywhere in the workflow; a fallback runs as `<step>.<fallback>`. */
export function findStep(workflow: Workflow, stepId: string): ActionStep | undefined {
  const found = actionSteps(runSections(workflow)).find((s) => s.id === stepId);
  if (found) return found;
  const fallback = workflow.fallbacks.find((f) => stepId.endsWith(`.${f.id}`));
  return fallback && { ...fallback, id: stepId };
}

/** A workflow's groups' env, as the driver's engine computes it. */
export function workerWorkflow(workflow: Workflow, executors: ReadonlyMap<string, Executor>): WorkerWorkflow {
  return {
    workflow,
    executors,
    groupEnv: groupEnvironments(runSections(workflow)),
  };
}
