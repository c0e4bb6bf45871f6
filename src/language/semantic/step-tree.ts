import type { PathSegment } from '../yaml/locate.js';

export type StepKind = 'action' | 'parallel' | 'sequence';
export type Section = 'steps' | 'on_success' | 'on_failure' | 'finally' | 'fallbacks';

// One step of the raw document, placed in the plan: what has surely finished before it starts.
export interface StepNode {
  id: string | undefined;
  kind: StepKind;
  raw: Record<string, unknown>;
  path: PathSegment[];
  section: Section;
  /** Ids of steps certain to have finished when this step starts. */
  before: Set<string>;
  /** Ids running beside this step in an enclosing parallel group. */
  concurrent: Set<string>;
}

export interface StepTree {
  nodes: StepNode[];
  byId: Map<string, StepNode>;
  mainIds: Set<string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Walks the raw document's step lists (tolerating malformed parts) into plan-ordered nodes.
export function buildStepTree(data: unknown): StepTree {
  const nodes: StepNode[] = [];
  const doc = isRecord(data) ? data : {};
  const main = walkList(doc['steps'], ['steps'], 'steps', new Set(), new Set(), nodes);
  const mainIds = new Set(main);
  for (const section of ['on_success', 'on_failure', 'finally'] as const) {
    walkList(doc[section], [section], section, mainIds, new Set(), nodes);
  }
  // A fallback runs in place of a failed step; its `before` is settled by the references check.
  walkList(doc['fallbacks'], ['fallbacks'], 'fallbacks', new Set(), new Set(), nodes, true);
  const byId = new Map<string, StepNode>();
  for (const n of nodes) if (n.id !== undefined && !byId.has(n.id)) byId.set(n.id, n);
  return { nodes, byId, mainIds };
}

/** Walks a sequential list; returns the ids finished after the whole list. */
function walkList(list: unknown, path: PathSegment[], section: Section, done: Set<string>, concurrent: Set<string>, out: StepNode[], independent = false): Set<string> {
  let finished = new Set(done);
  if (!Array.isArray(list)) return finished;
  list.forEach((raw, i) => {
    if (!isRecord(raw)) return;
    const start = independent ? new Set(done) : finished;
    finished = walkStep(raw, [...path, i], section, start, concurrent, out);
    if (independent) finished = new Set(done);
  });
  return finished;
}

function walkStep(raw: Record<string, unknown>, path: PathSegment[], section: Section, done: Set<string>, concurrent: Set<string>, out: StepNode[]): Set<string> {
  const id = typeof raw['id'] === 'string' ? raw['id'] : undefined;
  const parallel = isRecord(raw['parallel']) ? raw['parallel'] : undefined;
  const kind: StepKind = 'parallel' in raw ? 'parallel' : 'steps' in raw ? 'sequence' : 'action';
  out.push({ id, kind, raw, path, section, before: new Set(done), concurrent: new Set(concurrent) });
  let finished: Set<string>;
  if (kind === 'parallel') {
    const children = Array.isArray(parallel?.['steps']) ? (parallel['steps'] as unknown[]) : [];
    const subtreeIds = children.map((c) => (isRecord(c) ? idsIn(c) : []));
    finished = new Set(done);
    children.forEach((child, i) => {
      if (!isRecord(child)) return;
      const siblings = new Set([...concurrent, ...subtreeIds.flatMap((ids, j) => (j === i ? [] : ids))]);
      for (const f of walkStep(child, [...path, 'parallel', 'steps', i], section, done, siblings, out)) finished.add(f);
    });
  } else if (kind === 'sequence') {
    finished = walkList(raw['steps'], [...path, 'steps'], section, done, concurrent, out);
  } else {
    finished = new Set(done);
  }
  if (id !== undefined) finished.add(id);
  return finished;
}

/** Every step id in a step's subtree, itself included. */
export function idsIn(raw: Record<string, unknown>): string[] {
  const ids = typeof raw['id'] === 'string' ? [raw['id']] : [];
  const parallel = raw['parallel'];
  const children = isRecord(parallel) ? parallel['steps'] : raw['steps'];
  if (Array.isArray(children)) for (const c of children) if (isRecord(c)) ids.push(...idsIn(c));
  return ids;
}
