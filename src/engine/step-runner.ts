import type { StepKind } from '../model/events.js';
import type { StepError, StepResult, StepStatus } from '../model/run.js';
import type { ModelSpend } from '../model/spend.js';
import type { ActionStep, ParallelGroup, Step } from '../model/workflow.js';
import { runAction } from './action-runner.js';
import { evaluateCondition, resolveValue } from './expressions.js';
import { Limiter } from './limiter.js';
import { manyListeners, setLimit } from './timers.js';
import type { RunContext } from './run-context.js';
import { failpoint } from '../state/failpoints.js';
import { StepFailure, toStepError } from './step-failure.js';
import { letEventLoopTurn } from './event-loop-turns.js';

/** A step's result, and whether its failure stops what follows it. */
export interface StepOutcome {
  result: StepResult;
  fatal: boolean;
}

/** Runs a list in order; stops at the first fatal failure. Returns whether the list succeeded. */
export async function runSequence(
  ctx: RunContext,
  steps: readonly Step[],
  signal: AbortSignal,
): Promise<{ ok: boolean; outputs: Record<string, unknown>; error?: StepError }> {
  const outputs: Record<string, unknown> = {};
  for (const step of steps) {
    await letEventLoopTurn();
    if (signal.aborted) return { ok: false, outputs };
    const outcome = await runStep(ctx, step, signal);
    outputs[step.id] = outcome.result.output;
    if (outcome.fatal) {
      const error = outcome.result.error;
      return { ok: false, outputs, ...(error ? { error: { ...error, message: `step '${step.id}': ${error.message}` } } : {}) };
    }
  }
  return { ok: true, outputs };
}

// One step of any form: restored from the record, skipped by its `if`, or run.
export async function runStep(ctx: RunContext, step: Step, signal: AbortSignal): Promise<StepOutcome> {
  const recorded = ctx.plan.byId.get(step.id)?.decision === 'restore' ? ctx.recorded.get(`${step.id}#-1`) : undefined;
  if (recorded) {
    if (step.kind !== 'action') restoreChildren(ctx, step.steps);
    ctx.publish(step.id, recorded);
    if (recorded.status === 'succeeded') ctx.scope.previous = recorded.output;
    ctx.emit({ type: 'step-restored', runId: ctx.runId, stepId: step.id, item: -1, result: recorded });
    return { result: recorded, fatal: false };
  }
  const startedAt = ctx.at();
  const kind: StepKind = step.kind === 'action' ? (step.forEach === undefined ? 'action' : 'for_each') : step.kind;
  let run: boolean;
  try {
    run = await evaluateCondition(step.if, ctx.scope);
  } catch (err) {
    return finish(ctx, step.id, -1, kind, 0, result('failed', startedAt, ctx.at(), { error: toStepError(err) }), tolerates(step));
  }
  if (!run) {
    return finish(ctx, step.id, -1, kind, 0, result('skipped', startedAt, ctx.at(), { reason: `if: ${String(step.if)} was false` }), false);
  }
  if (step.kind === 'action') return step.forEach === undefined ? runAction(ctx, step, signal) : runForEach(ctx, step, signal);

  ctx.emit({ type: 'step-started', runId: ctx.runId, stepId: step.id, item: -1, attempt: 0, kind, at: startedAt, durable: false });
  const limit = withTimeout(signal, step.timeoutMs, `group '${step.id}' timed out after ${step.timeoutMs} ms`);
  const group = step.kind === 'parallel' ? await runParallel(ctx, step, limit.signal) : await runSequence(ctx, step.steps, limit.signal);
  limit.clear();
  const status: StepStatus = group.ok ? 'succeeded' : (abortedStatus(limit.signal) ?? 'failed');
  const error = group.ok
    ? undefined
    : limit.signal.aborted && !signal.aborted
      ? toStepError(limit.signal.reason)
      : firstError(ctx, step.steps, signal);
  const outcome = result(status, startedAt, ctx.at(), { output: group.outputs, ...(error ? { error } : {}) });
  return finish(ctx, step.id, -1, kind, 0, outcome, tolerates(step));
}

// Siblings run together under the group's limit; with fail_fast the first failure cancels the rest.
async function runParallel(
  ctx: RunContext,
  group: ParallelGroup,
  parent: AbortSignal,
): Promise<{ ok: boolean; outputs: Record<string, unknown> }> {
  const controller = new AbortController();
  const signal = manyListeners(AbortSignal.any([parent, controller.signal]));
  const limiter = new Limiter(group.maxConcurrency ?? Number.POSITIVE_INFINITY);
  const previous = ctx.scope.previous;
  const outcomes = await Promise.all(
    group.steps.map((child) =>
      limiter.run(async () => {
        await letEventLoopTurn();
        if (signal.aborted) return cancelled(ctx, child, signal);
        const outcome = await runStep(ctx, child, signal);
        failpoint('in-parallel-group');
        if (outcome.fatal && group.failFast && !controller.signal.aborted) {
          controller.abort(new StepFailure('cancelled', `cancelled because '${child.id}' failed`));
        }
        return outcome;
      }),
    ),
  );
  ctx.scope.previous = previous;
  const outputs = Object.fromEntries(group.steps.map((s, i) => [s.id, outcomes[i]!.result.output]));
  return { ok: !outcomes.some((o) => o.fatal), outputs };
}

// Items of a for_each run under its max_concurrency (default one at a time); outputs are kept in item order.
async function runForEach(ctx: RunContext, step: ActionStep, signal: AbortSignal): Promise<StepOutcome> {
  const startedAt = ctx.at();
  ctx.emit({
    type: 'step-started',
    runId: ctx.runId,
    stepId: step.id,
    item: -1,
    attempt: 0,
    kind: 'for_each',
    at: startedAt,
    durable: false,
  });
  let items: unknown;
  try {
    items = await resolveValue(step.forEach, ctx.scope);
    // A JSONata path that finds one value gives the value itself, not a list of one.
    if (items === null || items === undefined) items = [];
    else if (!Array.isArray(items)) items = [items];
  } catch (err) {
    return finish(ctx, step.id, -1, 'for_each', 0, result('failed', startedAt, ctx.at(), { error: toStepError(err) }), tolerates(step));
  }
  const list = items as unknown[];
  ctx.emit({ type: 'step-items', runId: ctx.runId, stepId: step.id, item: -1, count: list.length });
  const controller = new AbortController();
  const itemSignal = manyListeners(AbortSignal.any([signal, controller.signal]));
  // A few workers take the next item as they free up: memory stays in proportion to max_concurrency, not to the
  // length of the list. Of each item only its output is kept (for the outputs in order), and the first failure.
  const outputs: unknown[] = new Array(list.length).fill(null);
  let failed: { index: number; outcome: StepOutcome } | undefined;
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      await letEventLoopTurn();
      // Another worker may have taken the last item meanwhile.
      if (itemSignal.aborted || next >= list.length) break;
      const index = next++;
      const outcome = await runAction(ctx, step, itemSignal, { item: list[index], index });
      if (outcome.result.status === 'succeeded') outputs[index] = outcome.result.output;
      else if (outcome.result.status === 'failed' && (failed === undefined || index < failed.index)) failed = { index, outcome };
      failpoint('between-items');
      if (outcome.result.status === 'failed' && !controller.signal.aborted)
        controller.abort(new StepFailure('cancelled', `item ${index} failed`));
    }
  };
  await Promise.all(Array.from({ length: Math.min(step.maxConcurrency ?? 1, list.length) }, worker));
  const aborted = abortedStatus(signal);
  const status: StepStatus = aborted ?? (failed ? 'failed' : 'succeeded');
  const error = failed?.outcome.result.error ?? (aborted ? toStepError(signal.reason) : undefined);
  return finish(
    ctx,
    step.id,
    -1,
    'for_each',
    0,
    result(status, startedAt, ctx.at(), { output: outputs, ...(error ? { error } : {}) }),
    tolerates(step),
  );
}

/** A restored group's steps stay readable as steps.<id> by what comes after it. */
function restoreChildren(ctx: RunContext, steps: readonly Step[]): void {
  for (const child of steps) {
    const r = ctx.recorded.get(`${child.id}#-1`);
    if (r) ctx.publish(child.id, r);
    if (child.kind !== 'action') restoreChildren(ctx, child.steps);
  }
}

/** Whether a failure of this step lets the run go on. */
export function tolerates(step: Step): boolean {
  return step.continueOnError || (step.kind === 'action' && step.onError.kind === 'continue');
}

/** Records and publishes a step's final result; `durable` when the step had effects outside the run. */
// A succeeded result is marked when its output holds a secret (see StepResult.masked).
export function finish(
  ctx: RunContext,
  stepId: string,
  item: number,
  kind: StepKind,
  attempt: number,
  r: StepResult,
  tolerated: boolean,
  durable = false,
  ai?: ModelSpend,
): StepOutcome {
  if (r.status === 'succeeded' && ctx.masker.holds([r.output, r.outputs])) r = { ...r, masked: true };
  if (item < 0) {
    ctx.publish(stepId, r);
    if (r.status === 'succeeded') ctx.scope.previous = r.output;
  }
  const durationMs = r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.startedAt) : 0;
  ctx.emit({ type: 'step-finished', runId: ctx.runId, stepId, item, kind, attempt, result: r, durationMs, durable, ai });
  const failed = r.status === 'failed' || r.status === 'cancelled' || r.status === 'interrupted';
  return { result: r, fatal: failed && !(tolerated && r.status === 'failed') };
}

export function result(status: StepStatus, startedAt: string, endedAt: string, extra: Partial<StepResult> = {}): StepResult {
  return { status, output: null, outputs: {}, error: undefined, reason: undefined, attempts: 0, startedAt, endedAt, ...extra };
}

/** The status a step gets when the signal that stopped it was not its own failure. */
export function abortedStatus(signal: AbortSignal): StepStatus | undefined {
  if (!signal.aborted) return undefined;
  const cls = toStepError(signal.reason).class;
  return cls === 'interrupted' ? 'interrupted' : cls === 'timeout' ? 'failed' : 'cancelled';
}

/** A signal that also aborts after `ms` (when given), with a StepFailure of class timeout. */
function withTimeout(parent: AbortSignal, ms: number | undefined, message: string): { signal: AbortSignal; clear: () => void } {
  if (ms === undefined) return { signal: parent, clear: () => {} };
  const controller = new AbortController();
  const timer = setLimit(() => controller.abort(new StepFailure('timeout', message)), ms);
  return { signal: manyListeners(AbortSignal.any([parent, controller.signal])), clear: () => clearTimeout(timer) };
}

function cancelled(ctx: RunContext, step: Step, signal: AbortSignal): StepOutcome {
  const at = ctx.at();
  const status = abortedStatus(signal) ?? 'cancelled';
  return finish(
    ctx,
    step.id,
    -1,
    step.kind === 'action' ? 'action' : step.kind,
    0,
    result(status, at, at, { error: toStepError(signal.reason), reason: 'not started' }),
    false,
  );
}

function firstError(ctx: RunContext, steps: readonly Step[], signal: AbortSignal): StepError | undefined {
  for (const s of steps) {
    const r = ctx.results.get(s.id);
    if (r?.status === 'failed' && r.error) return r.error;
  }
  return signal.aborted ? toStepError(signal.reason) : undefined;
}
