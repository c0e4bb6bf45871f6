import { jsonataLibrary } from '../lazy-libraries.js';
import { plainPath } from './direct.js';

// What an expression reads from its scope: `steps.fetch.output.body` is root 'steps', path [fetch, output, body].
export interface ScopeReference {
  root: string;
  path: string[];
  /** Offsets of the root name within the expression source. */
  start: number;
  end: number;
}

export type CompiledExpression = { ok: true; references: ScopeReference[] } | { ok: false; message: string; offset: number };

interface AstNode {
  type: string;
  value?: unknown;
  position?: number;
  steps?: AstNode[];
  [key: string]: unknown;
}

// Workflows repeat their expressions (`inputs.x` in every step); each distinct text is parsed once.
const analyzed = new Map<string, CompiledExpression>();
const MAX_CACHED = 10_000;

// Parses with JSONata itself (never eval) and lists the scope names the expression reads.
export function analyzeExpression(source: string): CompiledExpression {
  let result = analyzed.get(source);
  if (!result) {
    if (analyzed.size >= MAX_CACHED) analyzed.clear();
    result = parseExpression(source);
    analyzed.set(source, result);
  }
  return result;
}

function parseExpression(source: string): CompiledExpression {
  // A plain path (`inputs.name`, `steps.fetch.output.body`) is read without loading JSONata at all.
  const plain = plainPath(source);
  if (plain) return { ok: true, references: [{ ...plain, end: plain.start + plain.root.length }] };
  let ast: AstNode;
  try {
    ast = jsonataLibrary()(source).ast() as AstNode;
  } catch (err) {
    const e = err as { message?: string; position?: number; token?: string };
    const offset = typeof e.position === 'number' ? Math.max(0, Math.min(source.length - 1, e.position - 1)) : 0;
    return { ok: false, message: (e.message ?? 'syntax error').replace(/\.$/, ''), offset };
  }
  const references: ScopeReference[] = [];
  visit(ast, true, references);
  return { ok: true, references };
}

function visit(node: unknown, rootContext: boolean, out: ScopeReference[]): void {
  if (Array.isArray(node)) {
    for (const n of node) visit(n, rootContext, out);
    return;
  }
  if (!isNode(node)) return;
  if (node.type === 'path' && Array.isArray(node.steps)) {
    const [first, ...rest] = node.steps;
    if (rootContext && first?.type === 'name') out.push(reference(first, rest));
    else visit(first, rootContext, out);
    // Names after the first step, and inside predicates, are relative to the path's current item.
    for (const step of rest) visit(step, false, out);
    if (first) for (const key of ['stages', 'predicate', 'group']) visit(first[key], false, out);
    return;
  }
  if (node.type === 'name' && rootContext) {
    out.push(reference(node, []));
    return;
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === 'position' || key === 'value' || key === 'type') continue;
    // A lambda's body keeps the context where it was written, so its names are read from the root too.
    const relative = key === 'stages' || key === 'predicate' || key === 'group';
    visit(child, rootContext && !relative, out);
  }
}

function reference(first: AstNode, rest: AstNode[]): ScopeReference {
  const root = String(first.value);
  const path: string[] = [];
  for (const step of rest) {
    if (step.type !== 'name') break;
    path.push(String(step.value));
    if (step['stages'] || step['predicate']) break;
  }
  const end = first.position ?? root.length;
  return { root, path, start: Math.max(0, end - root.length), end };
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).type === 'string';
}
