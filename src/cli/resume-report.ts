import type { Plan, PlannedStep } from '../engine/plan.js';
import type { Workflow } from '../model/workflow.js';

// `flow resume --plan`: what a resume would restore from the record and what it would run, one line a step.
export function describePlan(plan: Plan, workflow: Workflow): string {
  const lines: string[] = [];
  const walk = (steps: readonly PlannedStep[], depth: number, handler = '') => {
    for (const s of steps) {
      const items =
        s.kind === 'for_each' && s.decision === 'run' && s.restoredItems.size > 0 ? ` (${s.restoredItems.size} item(s) restored)` : '';
      lines.push(`${'  '.repeat(depth)}${s.decision === 'restore' ? 'restore' : 'run    '}  ${s.id}${handler}${items}`);
      if (s.decision === 'run') walk(s.children, depth + 1);
    }
  };
  walk(plan.steps, 0);
  for (const [list, name] of [
    [plan.onSuccess, 'on_success'],
    [plan.onFailure, 'on_failure'],
    [plan.finally, 'finally'],
  ] as const) {
    walk(list, 0, ` (${name})`);
  }
  return `plan for ${workflow.name}:\n${lines.join('\n')}`;
}
