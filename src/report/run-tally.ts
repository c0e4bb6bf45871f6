import type { FlowEvent, StepKind } from '../model/events.js';
import type { RunStatus, StepError, StepResult, StepStatus } from '../model/run.js';
import { type ModelSpend, addSpend, noSpend } from '../model/spend.js';

// What reporters remember of a run: each step's state as its events told it. Only the run's own steps are
// tallied: a child workflow's events describe the child run, whose step is already the parent's one line.

/** The output kept per step: its tail, enough for a failure's last lines and a JUnit report. */
export const OUTPUT_KEPT = 64 * 1024;

export interface RetryNote {
  attempt: number;
  delayMs: number;
  error: StepError;
}

export interface StepTally {
  /** `id`, or `id[N]` for one item of a for_each. */
  key: string;
  stepId: string;
  item: number;
  kind: StepKind;
  status: StepStatus;
  attempts: number;
  startedAt: number;
  durationMs: number | undefined;
  result: StepResult | undefined;
  restored: boolean;
  cached: boolean;
  retries: RetryNote[];
  stdout: string;
  stderr: string;
  /** Both streams as they came, for a failed step's last lines. */
  combined: string;
  /** For a for_each: how many items it has, once known, and how its finished items ended. */
  items?: { total: number | undefined; finished: Partial<Record<StepStatus, number>> };
}

export interface RunEnd {
  status: RunStatus;
  durationMs: number;
  error: StepError | undefined;
  outputs: Record<string, unknown> | undefined;
}

export interface TallyOptions {
  /**
   * How much of a for_each item's output to keep once it has finished and not failed (default none): a run of
   * 100,000 items must not keep 100,000 tails. A failed item keeps its tail for the lines shown under it.
   */
  passedItemOutput?: (item: number) => number;
  /**
   * Whether a for_each item that finished and did not fail stays in `steps` (default no: once its parent has counted
   * it, nothing asks for it, and a run of 100,000 items must not keep 100,000 tallies). A JUnit report lists items.
   */
  keepPassedItems?: boolean;
}

export class RunTally {
  runId: string | undefined;
  /** What this run's model calls took, its child runs' and failed attempts' included; answers from the cache cost nothing. */
  readonly ai: ModelSpend = noSpend();
  workflowName = '';
  workflowPath = '';
  resumed = false;
  startedAt = 0;
  end: RunEnd | undefined;
  /** In the order they started (or were restored). */
  readonly steps = new Map<string, StepTally>();
  private readonly running = new Set<StepTally>();

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly options: TallyOptions = {},
  ) {}

  /** Steps under way, in the order they started. */
  runningSteps(): StepTally[] {
    return [...this.running];
  }

  /** Steps as a summary counts them: actions (a for_each once) and fallbacks, not groups nor items. */
  countedSteps(): StepTally[] {
    return [...this.steps.values()].filter((s) => s.item < 0 && s.kind !== 'parallel' && s.kind !== 'sequence');
  }

  counts(): Partial<Record<StepStatus | 'cached' | 'restored', number>> {
    const out: Partial<Record<StepStatus | 'cached' | 'restored', number>> = {};
    for (const s of this.countedSteps()) {
      const key = s.restored ? 'restored' : s.cached && s.status === 'succeeded' ? 'cached' : s.status;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  apply(event: FlowEvent): StepTally | undefined {
    if (event.type === 'run-started') {
      if (this.runId !== undefined) return undefined;
      this.runId = event.run.id;
      this.workflowName = event.run.workflowName;
      this.workflowPath = event.run.workflowPath;
      this.resumed = event.resumed;
      this.startedAt = this.clock();
      return undefined;
    }
    if (event.type === 'log') return undefined;
    if ((event.type === 'step-finished' || event.type === 'step-retrying') && event.ai) addSpend(this.ai, event.ai);
    if (event.runId !== this.runId) return this.childOutput(event);
    if (event.type === 'run-finished') {
      this.end = { status: event.status, durationMs: event.durationMs, error: event.error, outputs: event.outputs };
      this.running.clear();
      return undefined;
    }
    const key = event.item >= 0 ? `${event.stepId}[${event.item}]` : event.stepId;
    switch (event.type) {
      case 'step-started': {
        const step = this.steps.get(key) ?? this.newStep(key, event.stepId, event.item, event.kind);
        step.status = 'running';
        step.attempts = Math.max(step.attempts, event.attempt);
        if (event.kind === 'for_each') step.items = { total: undefined, finished: {} };
        this.running.add(step);
        return step;
      }
      case 'step-items': {
        const step = this.steps.get(key);
        if (step?.items) step.items.total = event.count;
        return step;
      }
      case 'step-output': {
        const step = this.steps.get(key);
        if (!step) return undefined;
        if (event.stream === 'stdout') step.stdout = keepTail(step.stdout + event.text);
        else step.stderr = keepTail(step.stderr + event.text);
        step.combined = keepTail(step.combined + event.text);
        return step;
      }
      case 'step-tokens':
        return this.steps.get(key);
      case 'step-retrying': {
        const step = this.steps.get(key);
        step?.retries.push({ attempt: event.attempt, delayMs: event.delayMs, error: event.error });
        return step;
      }
      case 'cache-hit': {
        const step = this.steps.get(key) ?? this.newStep(key, event.stepId, event.item, 'action');
        step.cached = true;
        return step;
      }
      case 'step-restored':
      case 'step-finished': {
        const kind = event.type === 'step-finished' ? event.kind : 'action';
        const step = this.steps.get(key) ?? this.newStep(key, event.stepId, event.item, kind);
        if (event.type === 'step-finished') step.kind = event.kind;
        step.status = event.result.status;
        // The step's output value is the run's business, not a reporter's: kept, it would hold every item's stdout.
        // Object.assign, not a spread with keys after it: that is slow on Node 20 (see event-json.ts).
        step.result = Object.assign({}, event.result, { output: null, outputs: {} });
        step.attempts = Math.max(step.attempts, event.result.attempts);
        step.restored = event.type === 'step-restored';
        step.durationMs = event.type === 'step-finished' ? event.durationMs : 0;
        this.running.delete(step);
        if (event.item >= 0) {
          if (!isFailure(step.status)) keepAtMost(step, this.options.passedItemOutput?.(event.item) ?? 0);
          const parent = this.steps.get(event.stepId);
          if (parent?.items) parent.items.finished[step.status] = (parent.items.finished[step.status] ?? 0) + 1;
          if (!isFailure(step.status) && !this.options.keepPassedItems) this.steps.delete(key);
        }
        return step;
      }
    }
  }

  /**
   * A child run's output (a `workflow` step's) belongs to the step that started it, as that step's own: its failure
   * shows the child's last lines. The child's step ids start with that step's key (`sub/build`, `each[2]/build`).
   */
  private childOutput(event: FlowEvent): StepTally | undefined {
    const slash = event.type === 'step-output' ? event.stepId.indexOf('/') : -1;
    if (event.type !== 'step-output' || slash < 0) return undefined;
    const step = this.steps.get(event.stepId.slice(0, slash));
    if (!step || step.result) return undefined;
    if (event.stream === 'stdout') step.stdout = keepTail(step.stdout + event.text);
    else step.stderr = keepTail(step.stderr + event.text);
    step.combined = keepTail(step.combined + event.text);
    return step;
  }

  private newStep(key: string, stepId: string, item: number, kind: StepKind): StepTally {
    const step: StepTally = {
      key,
      stepId,
      item,
      kind,
      status: 'running',
      attempts: 0,
      startedAt: this.clock(),
      durationMs: undefined,
      result: undefined,
      restored: false,
      cached: false,
      retries: [],
      stdout: '',
      stderr: '',
      combined: '',
    };
    this.steps.set(key, step);
    return step;
  }
}

function keepTail(text: string, limit = OUTPUT_KEPT): string {
  return text.length <= limit ? text : text.slice(text.length - limit);
}

function keepAtMost(step: StepTally, limit: number): void {
  step.stdout = keepTail(step.stdout, limit);
  step.stderr = keepTail(step.stderr, limit);
  step.combined = keepTail(step.combined, limit);
}

function isFailure(status: StepStatus): boolean {
  return status === 'failed' || status === 'cancelled' || status === 'interrupted';
}

/** The last `n` non-empty lines of a step's output. */
export function lastLines(text: string, n: number): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}
