import { sha256Hex } from './node-crypto.js';
import type { Executor } from '../executors/executor.js';
import type { EventListener } from '../model/events.js';
import type { RunOwner, RunRecord, RunStatus, StepError, StepResult } from '../model/run.js';
import type { Workflow } from '../model/workflow.js';
import type { RunStore, StoredStepResult } from '../state/run-store.js';
import { renderText, resolveValue } from './expressions.js';
import { FlowError } from '../model/errors.js';
import { workflowShape } from './drift.js';
import { SecretMasker, secretValues } from './masking.js';
import { RunContext, realClock, type ChildRunner, type Clock } from './run-context.js';
import { newRunId } from './run-id.js';
import type { RemoteSteps } from './remote-steps.js';
import { manyListeners, setLimit } from './timers.js';
import { StepFailure, toStepError } from './step-failure.js';
import { runSequence } from './step-runner.js';

export interface RunOptions {
  workflow: Workflow;
  /** The workflow file's text, kept with the run so a resume runs what was started. */
  definition: string;
  /** Inputs after defaults and type checks (see resolveInputs). */
  inputs: Record<string, unknown>;
  executors: ReadonlyMap<string, Executor>;
  store?: RunStore;
  listeners?: EventListener[];
  runId?: string;
  /** Results recorded by an earlier attempt of this run: the starting state (empty for a new run). */
  recorded?: readonly StoredStepResult[];
  /** Set when this continues a recorded run (its record exists; it is not created again). */
  resume?: ResumeOf;
  /** The process that drives the run, recorded with it (and with its child runs). */
  owner?: RunOwner;
  /** Bypass the step cache: neither read nor write it. */
  noCache?: boolean;
  /** Aborted with a StepFailure('interrupted') on SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Values to mask besides this workflow's own secrets: a child run masks its parent's. */
  maskValues?: readonly string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  maxConcurrency?: number;
  parentRunId?: string;
  clock?: Clock;
  runChild?: ChildRunner;
  /** Under --remote: where the run's action attempts go, made for its context. */
  remote?: (ctx: RunContext) => RemoteSteps;
}

export interface ResumeOf {
  /** The run's attempt number now: 2 for the first resume. */
  attempt: number;
  /** When the run first started (run.started_at keeps it). */
  startedAt: string;
  /** The highest recorded attempt of a step (and item); asked only for the steps that run. */
  lastAttempt: (stepId: string, item: number) => number;
}

export interface RunOutcome {
  runId: string;
  status: RunStatus;
  outputs: Record<string, unknown> | undefined;
  error: StepError | undefined;
  results: ReadonlyMap<string, StepResult>;
}

// Runs a validated workflow from a starting state; every state change goes out as an event (the store is a subscriber).
export async function runWorkflow(options: RunOptions): Promise<RunOutcome> {
  const { workflow } = options;
  const clock = options.clock ?? realClock;
  const runId = options.runId ?? newRunId(clock.now().getTime());
  const processEnv = Object.fromEntries(
    Object.entries(options.env ?? process.env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const secrets = Object.fromEntries(workflow.secrets.map((name) => [name, processEnv[name] ?? '']));
  const masker = new SecretMasker([...secretValues(workflow, options.inputs, processEnv), ...(options.maskValues ?? [])]);
  const startedAt = clock.now();
  const recorded = new Map((options.recorded ?? []).map((r) => [`${r.stepId}#${r.item}`, r.result]));
  const run = {
    id: runId,
    attempt: options.resume?.attempt ?? 1,
    workflow: workflow.file,
    name: workflow.name,
    started_at: options.resume?.startedAt ?? startedAt.toISOString(),
  };
  const ctx = new RunContext(
    runId,
    workflow,
    options.executors,
    options.listeners ?? [],
    masker,
    recorded,
    options.store,
    clock,
    options.cwd ?? process.cwd(),
    processEnv,
    options.runChild ?? noChildRuns,
    {
      inputs: options.inputs,
      env: {},
      secrets,
      run,
    },
    options.maxConcurrency ?? Number.POSITIVE_INFINITY,
    options.resume?.lastAttempt,
    options.noCache !== true,
  );
  ctx.remote = options.remote?.(ctx);
  const resumed = options.resume !== undefined;
  ctx.emit({ type: 'run-started', run: runRecord(ctx, options, startedAt.toISOString()), resumed });

  const controller = new AbortController();
  const signal = manyListeners(options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal);
  const runTimer =
    workflow.timeoutMs === undefined
      ? undefined
      : setLimit(
          () => controller.abort(new StepFailure('timeout', `the run timed out after ${workflow.timeoutMs} ms`)),
          workflow.timeoutMs,
        );

  let ok = false;
  let outputs: Record<string, unknown> | undefined;
  let error: StepError | undefined;
  let fatal: StepError | undefined;
  try {
    // The workflow's env may read inputs, secrets, the process env and the run; it is resolved once, before any step.
    const workflowEnv = (await resolveValue(workflow.env, { inputs: options.inputs, env: processEnv, secrets, run })) as Record<
      string,
      unknown
    >;
    ctx.workflowEnv = Object.fromEntries(Object.entries(workflowEnv).map(([k, v]) => [k, renderText(v)]));
    // env.NAME reads the process environment, with the workflow's env over it.
    ctx.scope.env = { ...processEnv, ...ctx.workflowEnv };
    const main = await runSequence(ctx, workflow.steps, signal);
    ok = main.ok;
    fatal = main.error;
    const interrupted = signal.aborted && toStepError(signal.reason).class === 'interrupted';
    // Handlers run after the steps, but not when the user stopped the run: that run is to be resumed.
    // After a run timeout they still run, under the user's signal only.
    if (!interrupted) {
      const handlerSignal = options.signal ?? new AbortController().signal;
      const handled = await runSequence(ctx, ok ? workflow.onSuccess : workflow.onFailure, handlerSignal);
      const always = await runSequence(ctx, workflow.finally, handlerSignal);
      fatal ??= handled.error ?? always.error;
      ok = ok && handled.ok && always.ok;
    }
    if (ok) outputs = (await resolveValue(workflow.outputs, ctx.scope)) as Record<string, unknown>;
  } catch (err) {
    // A fault in the engine or its store: stop every step still running (their process groups go) before reporting it.
    controller.abort(new StepFailure('error', `the run stopped on an internal error: ${err instanceof Error ? err.message : String(err)}`));
    // The record cannot be trusted to take more (a full disk, a lost lease): nothing more is written, and the run
    // stays as last committed, to be resumed.
    if (err instanceof FlowError) throw err;
    ok = false;
    error = toStepError(err);
  } finally {
    if (runTimer) clearTimeout(runTimer);
  }
  const status: RunStatus = ok
    ? 'succeeded'
    : signal.aborted && toStepError(signal.reason).class === 'interrupted'
      ? 'interrupted'
      : 'failed';
  error ??= ok ? undefined : signal.aborted ? toStepError(signal.reason) : fatal;
  ctx.emit({
    type: 'run-finished',
    runId,
    status,
    durationMs: clock.now().getTime() - startedAt.getTime(),
    error,
    outputs: outputs === undefined ? undefined : masker.value(outputs),
    at: ctx.at(),
  });
  return { runId, status, outputs: outputs === undefined ? undefined : masker.value(outputs), error, results: ctx.results };
}

function runRecord(ctx: RunContext, options: RunOptions, startedAt: string): RunRecord {
  const secretNames = new Set(options.workflow.inputs.filter((i) => i.secret).map((i) => i.name));
  const inputs = Object.fromEntries(Object.entries(options.inputs).map(([k, v]) => [k, secretNames.has(k) ? '***' : v]));
  return {
    id: ctx.runId,
    workflowName: options.workflow.name,
    workflowPath: options.workflow.file,
    definition: options.definition,
    definitionHash: definitionHash(options.definition),
    inputs,
    status: 'running',
    startedAt,
    endedAt: undefined,
    outputs: undefined,
    error: undefined,
    parentRunId: options.parentRunId,
    attempt: options.resume?.attempt ?? 1,
    owner: options.owner,
    heartbeatAt: options.owner ? Date.now() : undefined,
    // Only a new top-level run records it: a resume compares against the shape the run started with.
    ...(options.resume === undefined && options.parentRunId === undefined ? { shape: workflowShape(options.workflow) } : {}),
  };
}

// A command hashes its workflow's text more than once (the kept model's key, the run's record): the last one's is kept.
let lastDefinition: { text: string; hash: string } | undefined;

/** The hash a run records of its workflow text: equal texts, equal hashes. */
export function definitionHash(text: string): string {
  if (lastDefinition?.text !== text) lastDefinition = { text, hash: sha256Hex(text) };
  return lastDefinition.hash;
}

const noChildRuns: ChildRunner = async () => {
  throw new StepFailure('unavailable', 'this run cannot start child workflows');
};
