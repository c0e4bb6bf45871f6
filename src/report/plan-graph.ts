import type { Step, Workflow } from '../model/workflow.js';

// The plan as plain data for drawing: the dashboard's graph, the API's, a saved run page's.

/** A graph node of the plan: an action, or a group around its children (a `for_each` is one action node). */
export interface PlanNode {
  id: string;
  kind: 'action' | 'parallel' | 'sequence';
  type: string | null;
  for_each: boolean;
  children: PlanNode[];
}

/** The plan's main steps, then each handler section, as trees. */
export function graphOf(workflow: Workflow): Record<string, PlanNode[]> {
  const nodes = (steps: readonly Step[]): PlanNode[] =>
    steps.map((s) =>
      s.kind === 'action'
        ? { id: s.id, kind: 'action', type: s.type, for_each: s.forEach !== undefined, children: [] }
        : { id: s.id, kind: s.kind, type: null, for_each: false, children: nodes(s.steps) },
    );
  return {
    steps: nodes(workflow.steps),
    on_success: nodes(workflow.onSuccess),
    on_failure: nodes(workflow.onFailure),
    finally: nodes(workflow.finally),
  };
}
