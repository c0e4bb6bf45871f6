import { mermaidGraph } from '../../engine/graph.js';
import { EXIT } from '../../model/errors.js';
import type { CommandIO } from '../io.js';
import { loadWorkflowForRun } from '../load-workflow.js';

// `flow graph FILE`: the plan as a Mermaid flowchart on stdout.
export async function graphCommand(file: string, io: CommandIO): Promise<number> {
  const { workflow } = await loadWorkflowForRun(file, io);
  io.stdout(mermaidGraph(workflow));
  return EXIT.ok;
}
