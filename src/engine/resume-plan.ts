import type { Step, Workflow } from '../model/workflow.js';
import type { StoredStepResult } from '../state/run-store.js';

// What a resume keeps and what it runs again, decided from the workflow and the record before anything starts.

export interface ResumeRequest {
  /** Re-run this step and every step after it in the file, even those that succeeded. */
  from?: string;
}

/** The workflow's steps in file order, each group before its children, and each step's enclosing groups. */
export function stepOrder(steps: readonly Step[]): { order: string[]; parents: Map<string, string[]> } {
  const order: string[] = [];
  const parents = new Map<string, string[]>();
  const walk = (list: readonly Step[], above: string[]) => {
    for (const step of list) {
      order.push(step.id);
      parents.set(step.id, above);
      if (step.kind !== 'action') walk(step.steps, [...above, step.id]);
    }
  };
  walk(steps, []);
  return { order, parents };
}

/**
 * The recorded results a resume starts from. Handlers (`on_success`, `on_failure`, `finally`) always run again,
 * as at the end of a fresh run. With `from`, that step, everything after it in the file, and the groups around
 * it lose their records too. A fallback's record (`<step>.<fallback>`) goes with its step.
 */
export function keptResults(workflow: Workflow, stored: readonly StoredStepResult[], request: ResumeRequest = {}): StoredStepResult[] {
  const { order, parents } = stepOrder(workflow.steps);
  const main = new Set(order);
  const dropped = new Set<string>();
  if (request.from !== undefined) {
    const at = order.indexOf(request.from);
    for (const id of order.slice(at < 0 ? order.length : at)) dropped.add(id);
    for (const id of parents.get(request.from) ?? []) dropped.add(id);
  }
  return stored.filter((r) => {
    const owner = main.has(r.stepId) ? r.stepId : r.stepId.slice(0, Math.max(0, r.stepId.lastIndexOf('.')));
    return main.has(owner) && !dropped.has(owner);
  });
}
