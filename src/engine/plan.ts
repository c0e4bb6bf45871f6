import type { StepResult } from '../model/run.js';
import type { Step, Workflow } from '../model/workflow.js';

export type Decision = 'run' | 'restore';
export type PlannedKind = 'action' | 'for_each' | 'parallel' | 'sequence';

/** What the run loop will do with one step, decided before it starts. */
export interface PlannedStep {
  id: string;
  kind: PlannedKind;
  decision: Decision;
  /** for_each items whose recorded result is kept (the others run). */
  restoredItems: ReadonlySet<number>;
  children: PlannedStep[];
}

export interface Plan {
  steps: PlannedStep[];
  onSuccess: PlannedStep[];
  onFailure: PlannedStep[];
  finally: PlannedStep[];
  /** Every planned step by id, groups and handlers included. */
  byId: ReadonlyMap<string, PlannedStep>;
}

/** Recorded results keyed `${stepId}#${item}` (item -1 for the step itself). */
export type RecordedResults = ReadonlyMap<string, StepResult>;

const KEPT: ReadonlySet<string> = new Set(['succeeded', 'skipped']);

/**
 * The plan of a run, a pure function of the workflow and what an earlier attempt recorded: a step that
 * succeeded (or was skipped) keeps its result, everything else runs. A new run plans from nothing; a resume
 * is the same question asked with a record.
 */
export function planRun(workflow: Workflow, recorded: RecordedResults = new Map()): Plan {
  const byId = new Map<string, PlannedStep>();
  const plan = (steps: readonly Step[]): PlannedStep[] =>
    steps.map((step) => {
      const kept = restorable(recorded.get(`${step.id}#-1`));
      const kind: PlannedKind = step.kind === 'action' ? (step.forEach === undefined ? 'action' : 'for_each') : step.kind;
      const planned: PlannedStep = {
        id: step.id,
        kind,
        decision: kept ? 'restore' : 'run',
        restoredItems: kind === 'for_each' && !kept ? restoredItems(step.id, recorded) : new Set(),
        children: step.kind === 'action' ? [] : plan(step.steps),
      };
      byId.set(step.id, planned);
      return planned;
    });
  return {
    steps: plan(workflow.steps),
    onSuccess: plan(workflow.onSuccess),
    onFailure: plan(workflow.onFailure),
    finally: plan(workflow.finally),
    byId,
  };
}

/** Succeeded or skipped, and not holding a secret (stored masked, it would come back as `***`). */
function restorable(r: StepResult | undefined): boolean {
  return r !== undefined && KEPT.has(r.status) && r.masked !== true;
}

function restoredItems(stepId: string, recorded: RecordedResults): Set<number> {
  const items = new Set<number>();
  const prefix = `${stepId}#`;
  for (const [key, result] of recorded) {
    if (!key.startsWith(prefix) || result.status !== 'succeeded' || result.masked) continue;
    const item = Number(key.slice(prefix.length));
    if (Number.isInteger(item) && item >= 0) items.add(item);
  }
  return items;
}
