import { describePlan } from '../../engine/dry-run.js';
import { EXIT } from '../../model/errors.js';
import type { Workflow } from '../../model/workflow.js';
import type { CommandIO } from '../io.js';

// `flow run --dry-run`: what would run, in which groups, and nothing else: no process, request, file or record.
export async function dryRun(workflow: Workflow, inputs: Record<string, unknown>, io: CommandIO): Promise<number> {
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  io.stdout(await describePlan(workflow, inputs, env));
  return EXIT.ok;
}
