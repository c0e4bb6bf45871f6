import { parse } from 'yaml';
import { buildStepTree, type Section } from '../language/semantic/step-tree.js';

/** Where a step sits in its workflow: how deep in groups, the group around it, and its list. */
export interface StepPlace {
  id: string;
  depth: number;
  group: string | undefined;
  section: Section;
}

// The state file does not keep the tree of a run's steps; the run's own snapshot of the workflow text does.
// A snapshot that no longer parses gives no places: its steps are then shown flat, in the order they started.
export function stepLayout(definition: string): StepPlace[] {
  let data: unknown;
  try {
    data = parse(definition, { merge: true });
  } catch {
    return [];
  }
  const places: StepPlace[] = [];
  const open: { id: string; path: readonly unknown[] }[] = [];
  for (const node of buildStepTree(data).nodes) {
    // Nodes come in file order, each group before its steps: the groups still open are those whose path starts this one's.
    while (open.length > 0 && !startsWith(node.path, open[open.length - 1]!.path)) open.pop();
    if (node.id === undefined) continue;
    places.push({ id: node.id, depth: open.length, group: open[open.length - 1]?.id, section: node.section });
    if (node.kind !== 'action') open.push({ id: node.id, path: node.path });
  }
  return places;
}

function startsWith(path: readonly unknown[], prefix: readonly unknown[]): boolean {
  return prefix.length < path.length && prefix.every((p, i) => path[i] === p);
}
