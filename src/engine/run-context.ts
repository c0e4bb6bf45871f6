import type { Executor } from '../executors/executor.js';
import type { EventListener, FlowEvent } from '../model/events.js';
import type { StepResult } from '../model/run.js';
import type { Step, Workflow } from '../model/workflow.js';
import type { RunStore } from '../state/run-store.js';
import { Limiter } from './limiter.js';
import { planRun, type Plan } from './plan.js';
import type { SecretMasker } from './masking.js';
import type { RemoteSteps } from './remote-steps.js';
import { runSections } from '../model/step-lists.js';
import { isoTime } from '../model/iso-time.js';

/** What a step's expressions can read: LANGUAGE.md's scope. */
export interface Scope {
  inputs: Record<string, unknown>;
  env: Record<string, string>;
  secrets: Record<string, string>;
  steps: Record<string, StepScope>;
  run: { id: string; attempt: number; workflow: string; name: string; started_at: string };
  previous: unknown;
  item?: unknown;
  index?: number;
  output?: unknown;
}

/**
 * The scope with a for_each item, or a step's own output, added. Built key by key, not as `{ ...scope, item, index }`:
 * on Node 20 an object spread followed by new keys makes V8 keep every such object past its young collections (a bare
 * loop of a million of them: 176 MB and 2.6 s, against 73 MB and 0.5 s spelled out), and a for_each makes one per item.
 */
export function extendScope(scope: Scope, added: Pick<Scope, 'item' | 'index' | 'output'>): Scope {
  const out: Scope = {
    inputs: scope.inputs,
    env: scope.env,
    secrets: scope.secrets,
    steps: scope.steps,
    run: scope.run,
    previous: scope.previous,
  };
  // Only the names the scope has or is given: `$keys($)` lists what is there.
  for (const name of ['item', 'index', 'output'] as const) {
    if (name in added) out[name] = added[name] as never;
    else if (name in scope) out[name] = scope[name] as never;
  }
  return out;
}

export interface StepScope {
  output: unknown;
  outputs: Record<string, unknown>;
  status: string;
  error: unknown;
  attempts: number;
  started_at: string;
  ended_at: string | undefined;
}

export interface Clock {
  now(): Date;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
}

export const realClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }),
  random: Math.random,
};

export function groupEnvironments(
  steps: readonly Step[],
  inherited: Record<string, string> = {},
  out = new Map<string, Record<string, string>>(),
): Map<string, Record<string, string>> {
  for (const step of steps) {
    if (Object.keys(inherited).length > 0) out.set(step.id, inherited);
    if (step.kind !== 'action') groupEnvironments(step.steps, { ...inherited, ...step.env }, out);
  }
  return out;
}

/** Runs another workflow file as a child of this run; returns its outputs or throws StepFailure. */
export type ChildRunner = (
  path: string,
  inputs: Record<string, unknown>,
  parent: { stepId: string; item: number; signal: AbortSignal; maskValues: readonly string[] },
) => Promise<Record<string, unknown>>;

// Everything one run shares: the workflow, where events go, what has been recorded, the clock.
export class RunContext {
  readonly results = new Map<string, StepResult>();
  readonly scope: Scope;
  readonly actionLimiter: Limiter;
  /** What to run and what to restore, decided before the run from the recorded state. */
  readonly plan: Plan;
  /** The workflow's own `env:`, resolved at the start of the run. */
  workflowEnv: Record<string, string> = {};
  /** The env of the groups around each step, outermost first (unresolved: it may read earlier steps). */
  readonly groupEnv: ReadonlyMap<string, Record<string, string>>;
  /** Set under --remote: action attempts with outside effects run on workers. */
  remote: RemoteSteps | undefined;

  constructor(
    readonly runId: string,
    readonly workflow: Workflow,
    readonly executors: ReadonlyMap<string, Executor>,
    private readonly listeners: readonly EventListener[],
    readonly masker: SecretMasker,
    /** Results recorded by an earlier attempt of this run, keyed `${stepId}#${item}`. */
    readonly recorded: ReadonlyMap<string, StepResult>,
    readonly store: RunStore | undefined,
    readonly clock: Clock,
    readonly cwd: string,
    readonly processEnv: Record<string, string>,
    readonly runChild: ChildRunner,
    scope: Omit<Scope, 'steps' | 'previous'>,
    maxConcurrency: number,
    /** The highest attempt number recorded for a step (and item): a resumed run numbers its attempts after it. */
    readonly lastAttempt: (stepId: string, item: number) => number = () => 0,
    /** False with --no-cache: the step cache is neither read nor written. */
    readonly cacheEnabled = true,
  ) {
    this.scope = { ...scope, steps: {}, previous: null };
    this.actionLimiter = new Limiter(maxConcurrency);
    this.plan = planRun(workflow, recorded);
    this.groupEnv = groupEnvironments(runSections(workflow));
  }

  emit(event: FlowEvent): void {
    const safe = this.masker.value(event);
    for (const listener of this.listeners) listener(safe);
  }

  at(): string {
    return isoTime(this.clock.now().getTime());
  }

  /** Makes a finished step readable as steps.<id> by later expressions. */
  publish(stepId: string, result: StepResult): void {
    this.results.set(stepId, result);
    this.scope.steps[stepId] = {
      output: result.output,
      outputs: result.outputs,
      status: result.status,
      error: result.error ?? null,
      attempts: result.attempts,
      started_at: result.startedAt,
      ended_at: result.endedAt,
    };
  }
}
