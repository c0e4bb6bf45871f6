import type { PathSegment } from '../yaml/locate.js';
import { isRecord } from '../plain-data.js';

export type StepKind = 'action' | 'parallel' | 'sequence';
export type Section = 'steps' | 'on_success' | 'on_failure' | 'finally' | 'fallbacks';

// One step of the raw document, with the path that places it in the plan.
export interface StepNode {
  id: string | undefined;
  kind: StepKind;
  raw: Record<string, unknown>;
  path: PathSegment[];
  section: Section;
}

export interface StepTree {
  nodes: StepNode[];
  byId: Map<string, StepNode>;
}

/** How step `x` stands to step `reader` when `reader` starts. */
export type Relation = 'before' | 'concurrent' | 'after' | 'self' | 'enclosing' | 'later-section';

const HANDLERS: ReadonlySet<Section> = new Set(['on_success', 'on_failure', 'finally']);

// Walks the raw document's step lists (tolerating malformed parts) into nodes in file order.
export function buildStepTree(data: unknown): StepTree {
  const nodes: StepNode[] = [];
  const doc = isRecord(data) ? data : {};
  for (const section of ['steps', 'on_success', 'on_failure', 'finally', 'fallbacks'] as const)
    walkList(doc[section], [section], section, nodes);
  const byId = new Map<string, StepNode>();
  for (const n of nodes) if (n.id !== undefined && !byId.has(n.id)) byId.set(n.id, n);
  return { nodes, byId };
}

function walkList(list: unknown, path: PathSegment[], section: Section, out: StepNode[]): void {
  if (!Array.isArray(list)) return;
  list.forEach((raw, i) => {
    if (!isRecord(raw)) return;
    const here = [...path, i];
    const kind: StepKind = 'parallel' in raw ? 'parallel' : 'steps' in raw ? 'sequence' : 'action';
    out.push({ id: typeof raw['id'] === 'string' ? raw['id'] : undefined, kind, raw, path: here, section });
    if (kind === 'parallel' && isRecord(raw['parallel'])) walkList(raw['parallel']['steps'], [...here, 'parallel', 'steps'], section, out);
    if (kind === 'sequence') walkList(raw['steps'], [...here, 'steps'], section, out);
  });
}

/**
 * Whether `x` has surely finished when `reader` starts, decided from their paths alone: in the lowest
 * list holding both, a sequence orders them by index, a parallel group runs them together. Handlers
 * come after every main step. O(depth) per question, so a file of any size is checked in linear time.
 */
export function relation(x: StepNode, reader: StepNode): Relation {
  if (x === reader) return 'self';
  if (x.section !== reader.section) return x.section === 'steps' && HANDLERS.has(reader.section) ? 'before' : 'later-section';
  let k = 0;
  while (k < x.path.length && k < reader.path.length && x.path[k] === reader.path[k]) k++;
  if (k === x.path.length || k === reader.path.length) return 'enclosing';
  if (x.path[k - 2] === 'parallel') return 'concurrent';
  return (x.path[k] as number) < (reader.path[k] as number) ? 'before' : 'after';
}
