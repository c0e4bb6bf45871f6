import { sha256Hex } from './node-crypto.js';
import type { Step, Workflow, WorkflowShape } from '../model/workflow.js';
import { canonicalJson } from './canonical-json.js';

// Whether the workflow a resume would run is the one a run started with, step by step. Compared as digests of the
// validated model (no positions, aliases resolved), so comments, layout and key order never count, and a run can
// record its shape without recording any secret value its text holds.

/** How a workflow differs from the shape a run recorded. */
export interface Drift {
  /** Steps whose definition changed, that moved, or that are new, in the new file's order. */
  changed: string[];
  removed: string[];
  /** Settings every step may read (env, inputs, secrets, models, executors) that changed. */
  settings: string[];
}

export function workflowShape(workflow: Workflow): WorkflowShape {
  const steps: WorkflowShape['steps'] = {};
  const walk = (list: readonly Step[], where: string) => {
    for (const step of list) {
      const { at: _at, ...own } = step;
      const definition = step.kind === 'action' ? own : { ...own, steps: undefined };
      steps[step.id] = { digest: digest({ definition, where }), main: where === 'steps' || where.startsWith('steps/') };
      if (step.kind !== 'action') walk(step.steps, `${where}/${step.id}`);
    }
  };
  walk(workflow.steps, 'steps');
  walk(workflow.onSuccess, 'on_success');
  walk(workflow.onFailure, 'on_failure');
  walk(workflow.finally, 'finally');
  walk(workflow.fallbacks, 'fallbacks');
  const settings = {
    env: digest(workflow.env),
    inputs: digest(workflow.inputs.map(({ at: _at, ...input }) => input)),
    secrets: digest(workflow.secrets),
    models: digest(workflow.models),
    executors: digest(workflow.executors),
  };
  return { steps, settings };
}

// A step counts as changed when its own definition changed, when it moved to another list or group, or when it
// now comes before a main step it used to follow.
export function workflowDrift(before: WorkflowShape, after: WorkflowShape): Drift {
  const ids = (shape: WorkflowShape) => Object.keys(shape.steps);
  const main = (shape: WorkflowShape) => ids(shape).filter((id) => shape.steps[id]!.main);
  const moved = outOfOrder(main(before), main(after));
  const changed = ids(after).filter((id) => after.steps[id]!.digest !== before.steps[id]?.digest || moved.has(id));
  const removed = ids(before).filter((id) => after.steps[id] === undefined);
  const keys = new Set([...Object.keys(before.settings), ...Object.keys(after.settings)]);
  const settings = [...keys].filter((k) => before.settings[k] !== after.settings[k]);
  return { changed, removed, settings };
}

export function hasDrift(drift: Drift): boolean {
  return drift.changed.length + drift.removed.length + drift.settings.length > 0;
}

/** The steps present in both orders that no longer come in the same relative order: from the first that differs. */
function outOfOrder(before: string[], after: string[]): Set<string> {
  const common = new Set(before.filter((id) => after.includes(id)));
  const was = before.filter((id) => common.has(id));
  const is = after.filter((id) => common.has(id));
  const first = is.findIndex((id, i) => id !== was[i]);
  return new Set(first < 0 ? [] : is.slice(first));
}

function digest(value: unknown): string {
  return sha256Hex(canonicalJson(value)).slice(0, 24);
}
