import { analyzeExpression } from '../language/expressions/references.js';
import { parseTemplate } from '../language/expressions/template.js';
import type { Scope } from '../engine/run-context.js';
import type { RemoteScope } from '../state/remote-attempts.js';

// What a worker needs of the driver's scope besides what it reads itself (the run's inputs, its own env and secrets):
// the item, the previous step's output, and the steps.<id> entries the step's expressions read. Only those: a step
// late in a long run would otherwise carry every result before it.

/** The step ids that expressions anywhere in `value` read as steps.<id>; 'all' when one reads `steps` whole. */
export function stepsRead(value: unknown): Set<string> | 'all' {
  return namesRead(value, 'steps');
}

/** The names that expressions anywhere in `value` read under `root` (root.<name>); 'all' when one reads `root` whole. */
export function namesRead(value: unknown, root: string): Set<string> | 'all' {
  const out = new Set<string>();
  let all = false;
  const walk = (v: unknown): void => {
    if (all) return;
    if (typeof v === 'string') {
      if (!v.includes('${{')) return;
      for (const part of parseTemplate(v).parts) {
        if (part.kind !== 'expression') continue;
        const analyzed = analyzeExpression(part.source);
        if (!analyzed.ok) continue;
        for (const r of analyzed.references) {
          if (r.root !== root) continue;
          if (r.path[0] === undefined) all = true;
          else out.add(r.path[0]);
        }
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(value);
  return all ? 'all' : out;
}

export function scopeSnapshot(scope: Scope, read: Set<string> | 'all'): RemoteScope {
  const steps =
    read === 'all' ? scope.steps : Object.fromEntries([...read].filter((id) => id in scope.steps).map((id) => [id, scope.steps[id]]));
  return {
    previous: scope.previous ?? null,
    steps,
    ...(scope.index === undefined ? {} : { item: scope.item, index: scope.index }),
  };
}
