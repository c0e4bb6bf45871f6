import { BUILTIN_TYPE_NAMES, findBuiltinExecutor } from '../../executors/registry.js';
import { suggestion } from '../did-you-mean.js';
import type { DiagnosticSink } from '../yaml/diagnostic-sink.js';
import { checkValue, type ExpressionCheck, type ExpressionContext } from './check-expressions.js';
import { relation, type Relation, type StepNode } from './step-tree.js';
import { isRecord } from '../plain-data.js';

// Ids unique across the file; the first one written keeps it, every later one is reported.
export function checkUniqueIds(nodes: readonly StepNode[], sink: DiagnosticSink): void {
  const first = new Map<string, StepNode>();
  for (const node of nodes) {
    if (node.id === undefined) continue;
    const earlier = first.get(node.id);
    if (!earlier) {
      first.set(node.id, node);
      continue;
    }
    const line = sink.lineOf([...earlier.path, 'id']);
    sink.report([...node.path, 'id'], 'duplicate-id', `step id '${node.id}' is already used on line ${line}`, {
      hint: 'step ids are unique across the whole file, handlers and groups included',
    });
  }
}

export function checkStepTypes(nodes: readonly StepNode[], customTypes: ReadonlySet<string>, sink: DiagnosticSink): void {
  for (const node of nodes) {
    const type = node.raw['type'];
    if (node.kind !== 'action' || typeof type !== 'string') continue;
    if (findBuiltinExecutor(type) || customTypes.has(type)) continue;
    const known = [...BUILTIN_TYPE_NAMES, ...customTypes];
    sink.report([...node.path, 'type'], 'unknown-step-type', `unknown step type '${type}'`, {
      hint: suggestion(type, known) ?? `built-in types: ${BUILTIN_TYPE_NAMES.join(', ')}; declare custom ones under executors:`,
    });
  }
}

export function checkFallbacks(nodes: readonly StepNode[], sink: DiagnosticSink): void {
  const fallbackIds = nodes.filter((n) => n.section === 'fallbacks' && n.id !== undefined).map((n) => n.id!);
  for (const node of nodes) {
    const onError = node.raw['on_error'];
    if (!isRecord(onError) || typeof onError['fallback'] !== 'string') continue;
    const target = onError['fallback'];
    if (node.raw['for_each'] !== undefined) {
      sink.report([...node.path, 'on_error', 'fallback'], 'invalid-value', 'a for_each step cannot have a fallback', {
        hint: 'use on_error: continue, or move the fallback into a sub-workflow run per item',
      });
      continue;
    }
    if (fallbackIds.includes(target)) continue;
    sink.report([...node.path, 'on_error', 'fallback'], 'unknown-step', `fallback '${target}' is not a step under fallbacks:`, {
      hint: suggestion(target, fallbackIds) ?? 'declare the fallback step in the top-level fallbacks: list',
    });
  }
}

// Each step's expressions, in the scope its place in the plan gives it.
export function checkStepExpressions(nodes: readonly StepNode[], check: ExpressionCheck): void {
  for (const node of nodes) {
    const standing = node.section === 'fallbacks' ? fallbackRelation(node, nodes) : (x: StepNode) => relation(x, node);
    const base: ExpressionContext = { relation: standing, forEach: false, ownOutput: false, ...(node.id ? { self: node.id } : {}) };
    const forEach = node.kind === 'action' && node.raw['for_each'] !== undefined;
    if (node.raw['if'] !== undefined) checkValue(check, node.raw['if'], [...node.path, 'if'], base, true);
    for (const key of ['name', 'for_each'] as const)
      if (node.raw[key] !== undefined) checkValue(check, node.raw[key], [...node.path, key], base);
    for (const key of ['env', 'config'] as const)
      if (node.raw[key] !== undefined) checkValue(check, node.raw[key], [...node.path, key], { ...base, forEach });
    if (node.raw['outputs'] !== undefined) {
      const own = (x: StepNode): Relation => (x === node ? 'before' : standing(x));
      checkValue(check, node.raw['outputs'], [...node.path, 'outputs'], { ...base, relation: own, ownOutput: true });
    }
  }
}

/** A fallback may read what finished before every step that names it, and the failed step itself when only one does. */
function fallbackRelation(fallback: StepNode, nodes: readonly StepNode[]): (x: StepNode) => Relation {
  const referrers = nodes.filter((n) => isRecord(n.raw['on_error']) && n.raw['on_error']['fallback'] === fallback.id);
  return (x) => {
    if (referrers.length === 0) return 'later-section';
    if (referrers.length === 1 && x === referrers[0]) return 'before';
    return referrers.every((r) => relation(x, r) === 'before') ? 'before' : 'after';
  };
}
