import { sha256Hex } from './node-crypto.js';
import type { Executor } from '../executors/executor.js';
import type { StepError, StepResult } from '../model/run.js';
import { type ModelSpend, addCall, noSpend } from '../model/spend.js';
import type { ActionStep } from '../model/workflow.js';
import { canonicalJson } from './canonical-json.js';
import { evaluate, renderValues, resolveValue } from './expressions.js';
import { shouldRetry, retryDelay } from './retry.js';
import { setLimit } from './timers.js';
import { extendScope, type RunContext, type Scope } from './run-context.js';
import { FlowError } from '../model/errors.js';
import { failpoint } from '../state/failpoints.js';
import { StepFailure, toStepError } from './step-failure.js';
import { abortedStatus, finish, result, tolerates, type StepOutcome } from './step-runner.js';
import { MAX_REDELIVERIES, runsRemotely, WorkerLost } from './remote-steps.js';
import { type HeldSlot, takeSlot } from './concurrency-cap.js';
import { attemptContext } from './attempt-context.js';

export interface ForEachItem {
  item: unknown;
  index: number;
}

// One action (or one for_each item): its attempts with retries and timeouts, its cache, its fallback.
export async function runAction(ctx: RunContext, step: ActionStep, signal: AbortSignal, each?: ForEachItem): Promise<StepOutcome> {
  const item = each?.index ?? -1;
  const recorded = item >= 0 && ctx.plan.byId.get(step.id)?.restoredItems.has(item) ? ctx.recorded.get(`${step.id}#${item}`) : undefined;
  if (recorded) {
    ctx.emit({ type: 'step-restored', runId: ctx.runId, stepId: step.id, item, result: recorded });
    return { result: recorded, fatal: false };
  }
  const scope: Scope = each ? extendScope(ctx.scope, { item: each.item, index: each.index }) : ctx.scope;
  const outcome = await ctx.actionLimiter.run(() => attempts(ctx, step, scope, signal, item));
  if (outcome.result.status !== 'failed' || step.onError.kind !== 'fallback' || item >= 0) return outcome;
  return runFallback(ctx, step, outcome, signal);
}

async function attempts(ctx: RunContext, step: ActionStep, scope: Scope, signal: AbortSignal, item: number): Promise<StepOutcome> {
  const executor = ctx.executors.get(step.type);
  const startedAt = ctx.at();
  const tolerated = tolerates(step);
  if (!executor) {
    const error = { class: 'validation', message: `no executor for step type '${step.type}'` };
    return finish(ctx, step.id, item, 'action', 0, result('failed', startedAt, ctx.at(), { error }), tolerated);
  }
  let lastOutput: unknown = null;
  const remote = ctx.remote && runsRemotely(executor) ? ctx.remote : undefined;
  // A remote attempt's durable record is the store's record of its job (written before the job is queued, its result
  // by the worker): the driver's own records of it may wait for the next commit, and a resume finds the job by its id.
  const durable = executor.pure !== true && remote === undefined;
  // A resumed run numbers its attempts after those already recorded, and gives the step a fresh retry budget.
  let before = ctx.lastAttempt(step.id, item);
  // After a takeover, an attempt still with the queue and its workers is waited for, not started again.
  const adopted = before > 0 && remote?.adopts(step.id, item, before) ? 1 : 0;
  let redelivered = 0;
  for (let attempt = before + 1 - adopted; ; attempt++) {
    const tries = attempt - before + adopted;
    const attemptStart = ctx.at();
    ctx.emit({
      type: 'step-started',
      runId: ctx.runId,
      stepId: step.id,
      item,
      attempt,
      kind: 'action',
      at: attemptStart,
      durable,
      inProcess: executor.pure === true,
    });
    // Only a step with a timeout gets a signal of its own: a combined signal per attempt is not free.
    const timeout = step.timeoutMs === undefined ? undefined : new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let slot: HeldSlot | undefined;
    const attemptSignal = timeout ? AbortSignal.any([signal, timeout.signal]) : signal;
    const spend = noSpend();
    const ai = () => (spend.calls > 0 ? spend : undefined);
    const retrying = (delayMs: number, error: StepError) =>
      ctx.emit({
        type: 'step-retrying',
        runId: ctx.runId,
        stepId: step.id,
        item,
        attempt,
        delayMs,
        error,
        at: ctx.at(),
        durable,
        ai: ai(),
      });
    try {
      // The wait for a slot of a concurrency cap is not the attempt's: its timeout starts once it has one.
      if (step.concurrency) slot = await takeSlot(ctx, step, scope, `${ctx.runId}.${step.id}.${item}.${attempt}`, signal);
      timer = timeout && setLimit(() => timeout.abort(new StepFailure('timeout', `timed out after ${step.timeoutMs} ms`)), step.timeoutMs!);
      const { output, cacheKey } = remote
        ? await executeRemotely(ctx, step, scope, attemptSignal, item, attempt, spend)
        : await executeOnce(ctx, step, executor, scope, attemptSignal, item, attempt, spend);
      failpoint('after-step-exit');
      const outputs = await namedOutputs(step, scope, output);
      const r = result('succeeded', startedAt, ctx.at(), {
        output,
        outputs,
        attempts: attempt,
        ...(cacheKey ? { reason: 'cache hit' } : {}),
      });
      return finish(ctx, step.id, item, 'action', attempt, r, tolerated, durable, ai());
    } catch (err) {
      // The record failed (a full disk, a lost lease), not the step: that stops the run.
      if (err instanceof FlowError) throw err;
      // Its worker was lost: the attempt is recorded interrupted and the next one submitted, as a local crash and a
      // resume would, without taking from the step's retries.
      if (err instanceof WorkerLost && !signal.aborted && redelivered < MAX_REDELIVERIES) {
        redelivered++;
        before++;
        retrying(0, toStepError(err));
        continue;
      }
      const error: StepError =
        timeout?.signal.aborted && !signal.aborted
          ? toStepError(timeout.signal.reason)
          : signal.aborted
            ? toStepError(signal.reason)
            : toStepError(err);
      if (err instanceof StepFailure && err.output !== undefined) lastOutput = err.output;
      const stopped = abortedStatus(signal);
      if (!stopped && shouldRetry(step.retry, error, tries)) {
        const delayMs = retryDelay(step.retry!, tries, ctx.clock.random, err instanceof StepFailure ? err.retryAfterMs : undefined);
        retrying(delayMs, error);
        // The slot of a concurrency cap goes back while the step waits to retry.
        slot?.release();
        slot = undefined;
        try {
          await ctx.clock.sleep(delayMs, signal);
          continue;
        } catch {
          // stopped while waiting: recorded below with the stop's status
        }
      }
      const status = abortedStatus(signal) ?? 'failed';
      const stopError = signal.aborted ? toStepError(signal.reason) : error;
      // Stopped while waiting to retry: the failed attempt's record (its error, its delay) stays as it was written.
      const stoppedInBackoff = stopped === undefined && signal.aborted && shouldRetry(step.retry, error, tries);
      return finish(
        ctx,
        step.id,
        item,
        'action',
        stoppedInBackoff ? 0 : attempt,
        result(status, startedAt, ctx.at(), { output: lastOutput, error: stopError, attempts: attempt }),
        tolerated,
        durable,
        ai(),
      );
    } finally {
      if (timer) clearTimeout(timer);
      slot?.release();
    }
  }
}

async function executeOnce(
  ctx: RunContext,
  step: ActionStep,
  executor: Executor,
  scope: Scope,
  signal: AbortSignal,
  item: number,
  attempt: number,
  spend: ModelSpend,
): Promise<{ output: unknown; cacheKey?: string }> {
  const { config, stepEnv } = await resolveStep(executor, step, scope, ctx.groupEnv.get(step.id));
  const cacheKey =
    step.cache && ctx.store && ctx.cacheEnabled
      ? cacheKeyOf(
          step,
          config,
          item,
          { ...ctx.workflowEnv, ...stepEnv },
          executor.cacheScope?.(config, { ...ctx.scope.env, ...stepEnv }, ctx.workflow.models),
        )
      : undefined;
  if (cacheKey) {
    const hit = ctx.store!.cacheGet(cacheKey, ctx.at());
    if (hit !== undefined) {
      ctx.emit({ type: 'cache-hit', runId: ctx.runId, stepId: step.id, item, key: cacheKey });
      return { output: (hit as { output: unknown }).output, cacheKey };
    }
  }
  const key = idempotencyKey(ctx.runId, step.id, item);
  const lines = lineBuffer((stream, text) =>
    ctx.emit({ type: 'step-output', runId: ctx.runId, stepId: step.id, item, attempt, stream, text }),
  );
  // How much of stdout's unfinished line has gone out as tokens.
  let tokensShown = 0;
  const emitTokens = (text: string) => {
    lines.push('stdout', text);
    if (text.includes('\n')) tokensShown = 0;
    const line = lines.unfinished('stdout');
    const settled = ctx.masker.settled(line);
    if (settled <= tokensShown) return;
    ctx.emit({ type: 'step-tokens', runId: ctx.runId, stepId: step.id, item, attempt, text: line.slice(tokensShown, settled) });
    tokensShown = settled;
  };
  const context = attemptContext(
    {
      runId: ctx.runId,
      stepId: step.id,
      attempt,
      item,
      idempotencyKey: key,
      signal,
      cwd: ctx.cwd,
      previous: scope.previous,
      inputs: scope.inputs,
      workflowFile: ctx.workflow.file,
      models: ctx.workflow.models,
      emitOutput: lines.push,
      emitTokens,
      reportModelCall: (call) => addCall(spend, call),
      runChildWorkflow: (path, inputs) => ctx.runChild(path, inputs, { stepId: step.id, item, signal, maskValues: ctx.masker.values }),
    },
    // The scope's env is the process environment with the workflow's over it (run-workflow.ts): one copy, not two.
    () => ({ ...ctx.scope.env, ...stepEnv, ...flowStepEnv(ctx.runId, step.id, attempt, key) }),
  );
  let output: unknown;
  try {
    output = await executor.execute(config, context);
  } finally {
    lines.flush();
  }
  // A result holding a secret is not cached: stored masked it would come back wrong, stored plain it would leak.
  if (cacheKey && JSON.stringify(ctx.masker.value(output)) === JSON.stringify(output)) {
    const expiresAt = step.cache!.ttlMs === undefined ? undefined : new Date(ctx.clock.now().getTime() + step.cache!.ttlMs).toISOString();
    ctx.store!.cachePut(cacheKey, { output }, expiresAt);
  }
  return { output };
}

async function executeRemotely(
  ctx: RunContext,
  step: ActionStep,
  scope: Scope,
  signal: AbortSignal,
  item: number,
  attempt: number,
  spend: ModelSpend,
): Promise<{ output: unknown; cacheKey?: string }> {
  const lines = lineBuffer((stream, text) =>
    ctx.emit({ type: 'step-output', runId: ctx.runId, stepId: step.id, item, attempt, stream, text }),
  );
  try {
    return { output: await ctx.remote!.execute({ step, item, attempt, scope, signal, emitOutput: lines.push, spend }) };
  } finally {
    lines.flush();
  }
}

/** A step's config and its own env (its groups' and its own), resolved in its scope: here, or on a worker. */
export async function resolveStep(
  executor: Executor,
  step: ActionStep,
  scope: object,
  groupEnv: Record<string, string> | undefined,
): Promise<{ config: Record<string, unknown>; stepEnv: Record<string, string> }> {
  const resolve = (value: unknown) => resolveValue(value, scope);
  const config = executor.resolveConfig
    ? await executor.resolveConfig(step.config, resolve, (source) => evaluate(source, scope))
    : ((await resolve(step.config)) as Record<string, unknown>);
  const declared = { ...groupEnv, ...step.env };
  const stepEnv = Object.keys(declared).length === 0 ? {} : renderValues(await resolve(declared));
  return { config, stepEnv };
}

/** What flow tells a step's processes of the attempt they run in. */
export function flowStepEnv(runId: string, stepId: string, attempt: number, key: string): Record<string, string> {
  return { FLOW_RUN_ID: runId, FLOW_STEP_ID: stepId, FLOW_ATTEMPT: String(attempt), FLOW_IDEMPOTENCY_KEY: key };
}

/** Output chunks cut into whole lines before they become events, so a secret split across two chunks is still masked. */
function lineBuffer(emit: (stream: 'stdout' | 'stderr', text: string) => void): {
  push: (stream: 'stdout' | 'stderr', text: string) => void;
  unfinished: (stream: 'stdout' | 'stderr') => string;
  flush: () => void;
} {
  const rest = { stdout: '', stderr: '' };
  return {
    push: (stream, text) => {
      const all = rest[stream] + text;
      const cut = all.lastIndexOf('\n') + 1;
      rest[stream] = all.slice(cut);
      if (cut > 0) emit(stream, all.slice(0, cut));
    },
    unfinished: (stream) => rest[stream],
    flush: () => {
      for (const stream of ['stdout', 'stderr'] as const) if (rest[stream]) emit(stream, rest[stream]);
      rest.stdout = rest.stderr = '';
    },
  };
}

async function namedOutputs(step: ActionStep, scope: Scope, output: unknown): Promise<Record<string, unknown>> {
  if (Object.keys(step.outputs).length === 0) return {};
  return (await resolveValue(step.outputs, extendScope(scope, { output }))) as Record<string, unknown>;
}

// The fallback runs in the failed step's place; when it succeeds, the step counts as recovered with its output.
async function runFallback(ctx: RunContext, step: ActionStep, failed: StepOutcome, signal: AbortSignal): Promise<StepOutcome> {
  const stepId = step.onError.kind === 'fallback' ? step.onError.stepId : '';
  const fallback = ctx.workflow.fallbacks.find((f) => f.id === stepId);
  if (!fallback || signal.aborted) return failed;
  // Recorded as `<step>.<fallback>`: one fallback may stand in for several steps, even at the same time.
  const rescue = await runAction(ctx, { ...fallback, id: `${step.id}.${fallback.id}` }, signal);
  if (rescue.result.status !== 'succeeded') return failed;
  const recovered: StepResult = {
    ...failed.result,
    status: 'succeeded',
    output: rescue.result.output,
    outputs: rescue.result.outputs,
    reason: `recovered by fallback '${fallback.id}' after: ${failed.result.error?.message ?? 'failure'}`,
  };
  return finish(ctx, step.id, -1, 'action', 0, recovered, false, true);
}

/** The same resolved config, environment (and item) of the same step type gives the same key, in any run. */
function cacheKeyOf(step: ActionStep, config: Record<string, unknown>, item: number, env: Record<string, string>, scope: unknown): string {
  return sha256Hex(canonicalJson([step.type, config, env, step.cache?.key ?? null, item, ...(scope === undefined ? [] : [scope])]));
}

export function idempotencyKey(runId: string, stepId: string, item: number): string {
  return sha256Hex(`${runId}/${stepId}/${item}`).slice(0, 32);
}
