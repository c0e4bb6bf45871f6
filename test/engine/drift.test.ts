import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasDrift, workflowDrift } from '../../src/engine/drift.js';

const base = `
env: { A: "1" }
steps:
  - { id: a, type: shell, config: { run: "echo a" } }
  - id: g
    parallel:
      max_concurrency: 2
      steps:
        - { id: b, type: shell, config: { run: "echo b" } }
        - { id: c, type: shell, config: { run: "echo c" } }
  - { id: d, type: transform, config: { value: 1 } }
finally:
  - { id: tidy, type: shell, config: { run: "true" } }
`;
const drift = (after: string) => workflowDrift(parse(base), parse(after));

describe('workflowDrift', () => {
  it('finds nothing when only comments, layout, key order or the description changed', () => {
    const same = base
      .replace('{ id: a, type: shell, config: { run: "echo a" } }', '{ type: shell, id: a, config: { run: "echo a" } } # first')
      .replace('env:', 'description: now described\nenv:');
    expect(hasDrift(drift(same))).toBe(false);
  });

  it('names a changed child without blaming its group, and a changed group setting on the group', () => {
    expect(drift(base.replace('echo c', 'echo C'))).toEqual({ changed: ['c'], removed: [], settings: [] });
    expect(drift(base.replace('max_concurrency: 2', 'max_concurrency: 3'))).toEqual({ changed: ['g'], removed: [], settings: [] });
  });

  it('names new, removed and handler steps, and settings every step reads', () => {
    const after = base
      .replace('  - { id: d, type: transform, config: { value: 1 } }\n', '  - { id: e, type: transform, config: { value: 1 } }\n')
      .replace('run: "true"', 'run: "false"')
      .replace('A: "1"', 'A: "2"');
    expect(drift(after)).toEqual({ changed: ['e', 'tidy'], removed: ['d'], settings: ['env'] });
  });
});
