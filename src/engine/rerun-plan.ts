import { analyzeExpression } from '../language/expressions/references.js';
import { parseTemplate } from '../language/expressions/template.js';
import { isRecord } from '../language/plain-data.js';
import type { Step, Workflow, WorkflowShape } from '../model/workflow.js';
import type { StoredStepResult } from '../state/run-store.js';
import { canonicalJson } from './canonical-json.js';
import { workflowDrift, workflowShape } from './drift.js';
import { keptResults, stepOrder } from './resume-plan.js';

// What a rerun takes over from the run it repeats, decided before anything starts, as a resume with --allow-changed
// decides it: every main step before the first one that could now come out differently keeps its result, and that
// step and all after it run again (a step may read what an earlier one left on disk, so nothing after a step that
// runs again is trusted). A step could come out differently when its definition changed, or when it reads an input
// whose value changed.

/** The run a rerun repeats: its recorded shape (absent for a run recorded before shapes were), inputs and results. */
export interface EarlierRun {
  shape: WorkflowShape | undefined;
  /** As recorded: a secret input's value is masked, so it never compares equal and what reads it runs again. */
  inputs: Record<string, unknown>;
  results: readonly StoredStepResult[];
}

export function rerunResults(workflow: Workflow, earlier: EarlierRun, inputs: Record<string, unknown>): StoredStepResult[] {
  if (!earlier.shape) return [];
  const drift = workflowDrift(earlier.shape, workflowShape(workflow));
  if (drift.settings.length > 0) return [];
  const changed = changedInputs(earlier.inputs, inputs);
  const readsChanged = (value: unknown, bare = false) => changed.size > 0 && readsAny(value, changed, bare);
  if (readsChanged(workflow.env) || readsChanged(workflow.models)) return [];
  const changedSteps = new Set(drift.changed);
  const byId = new Map<string, Step>();
  const collect = (steps: readonly Step[]) => {
    for (const s of steps) {
      byId.set(s.id, s);
      if (s.kind !== 'action') collect(s.steps);
    }
  };
  collect(workflow.steps);
  const readsChangedInput = (step: Step): boolean =>
    readsChanged(step.if, typeof step.if === 'string' && !step.if.includes('${{')) ||
    readsChanged([step.env, step.name]) ||
    (step.kind === 'action' && readsChanged([step.config, step.forEach, step.outputs]));
  const differs = (id: string): boolean => {
    if (changedSteps.has(id)) return true;
    if (changed.size === 0) return false;
    const step = byId.get(id)!;
    if (readsChangedInput(step)) return true;
    if (step.kind !== 'action') return false;
    // These read every input through the step context, not through expressions.
    if (step.type === 'input' || workflow.executors[step.type] !== undefined) return true;
    const { onError } = step;
    const fallback = onError.kind === 'fallback' ? workflow.fallbacks.find((f) => f.id === onError.stepId) : undefined;
    return fallback !== undefined && readsChangedInput(fallback);
  };
  const from = stepOrder(workflow.steps).order.find(differs);
  return keptResults(workflow, earlier.results, from === undefined ? {} : { from });
}

/** Input names whose value is not the one the earlier run had (or that only one of the two runs has). */
function changedInputs(before: Record<string, unknown>, after: Record<string, unknown>): Set<string> {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return new Set([...names].filter((n) => canonicalJson(before[n] ?? null) !== canonicalJson(after[n] ?? null)));
}

/** Whether any expression under `value` reads one of `names` (reading `inputs` whole reads them all). */
function readsAny(value: unknown, names: ReadonlySet<string>, bare: boolean): boolean {
  if (typeof value === 'string') {
    const sources = bare ? [value] : parseTemplate(value).parts.flatMap((p) => (p.kind === 'expression' ? [p.source] : []));
    return sources.some((source) => {
      const analyzed = analyzeExpression(source);
      // An expression that does not parse was refused by validation; were it here, it could read anything.
      if (!analyzed.ok) return true;
      return analyzed.references.some((r) => r.root === 'inputs' && (r.path[0] === undefined || names.has(r.path[0])));
    });
  }
  if (Array.isArray(value)) return value.some((v) => readsAny(v, names, false));
  if (isRecord(value)) return Object.values(value).some((v) => readsAny(v, names, false));
  return false;
}
