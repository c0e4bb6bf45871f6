import { EXIT } from '../../model/errors.js';
import type { Step, Workflow } from '../../model/workflow.js';
import type { CommandIO } from '../io.js';

// `flow run --dry-run`: what would run, in which groups, and nothing else: no process, request, file or record.
export function dryRun(workflow: Workflow, inputs: Record<string, unknown>, io: CommandIO): number {
  const lines = [`would run ${workflow.name} (${workflow.file}) with inputs ${JSON.stringify(inputs)}`];
  const walk = (steps: readonly Step[], depth: number) => {
    for (const step of steps) {
      const pad = '  '.repeat(depth);
      const when = step.if === undefined ? '' : ` if ${String(step.if)}`;
      if (step.kind === 'action') {
        const each = step.forEach === undefined ? '' : ` for each of ${JSON.stringify(step.forEach)}`;
        lines.push(`${pad}- ${step.id}: ${step.type}${each}${when}`);
      } else {
        lines.push(`${pad}- ${step.id}: ${step.kind === 'parallel' ? `parallel${step.maxConcurrency ? ` (max ${step.maxConcurrency})` : ''}` : 'sequence'}${when}`);
        walk(step.steps, depth + 1);
      }
    }
  };
  walk(workflow.steps, 1);
  for (const [name, steps] of [['on_success', workflow.onSuccess], ['on_failure', workflow.onFailure], ['finally', workflow.finally]] as const) {
    if (steps.length === 0) continue;
    lines.push(`  ${name}:`);
    walk(steps, 2);
  }
  io.stdout(lines.join('\n'));
  return EXIT.ok;
}
