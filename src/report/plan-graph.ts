import type { ActionStep, Step, Workflow } from '../model/workflow.js';

// The plan as plain data for drawing: the dashboard's graph, the API's, a saved run page's.

/** A graph node of the plan: an action, or a group around its children (a `for_each` is one action node). */
export interface PlanNode {
  id: string;
  kind: 'action' | 'parallel' | 'sequence';
  type: string | null;
  for_each: boolean;
  children: PlanNode[];
  /** An AI step's question as the workflow writes it (its system text, then its prompt or messages); null otherwise. */
  prompt: string | null;
}

/** The plan's main steps, then each handler section, as trees. */
export function graphOf(workflow: Workflow): Record<string, PlanNode[]> {
  const nodes = (steps: readonly Step[]): PlanNode[] =>
    steps.map((s) =>
      s.kind === 'action'
        ? { id: s.id, kind: 'action', type: s.type, for_each: s.forEach !== undefined, children: [], prompt: promptOf(s) }
        : { id: s.id, kind: s.kind, type: null, for_each: false, children: nodes(s.steps), prompt: null },
    );
  return {
    steps: nodes(workflow.steps),
    on_success: nodes(workflow.onSuccess),
    on_failure: nodes(workflow.onFailure),
    finally: nodes(workflow.finally),
  };
}

/** Unresolved: `${{ }}` stays as written, and a text recorded with a run has its secrets masked. */
function promptOf(step: ActionStep): string | null {
  if (step.type !== 'ai_processing') return null;
  const c = step.config;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (Array.isArray(c['messages']))
    return (c['messages'] as { role?: unknown; content?: unknown }[]).map((m) => `${String(m.role)}: ${String(m.content)}`).join('\n');
  const parts = [text(c['system']), text(c['prompt']) ?? '(what the step before gave)'].filter((p) => p !== undefined);
  return parts.join('\n\n');
}
