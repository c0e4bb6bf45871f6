import { describe, expect, it } from 'vitest';
import { hasDrift, workflowDrift, workflowShape } from '../../src/engine/drift.js';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';

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
const shape = async (yaml: string) => {
  const r = await validateSource('w.yaml', yaml, nodeHost);
  if (!r.workflow) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return workflowShape(r.workflow);
};
const drift = async (after: string) => workflowDrift(await shape(base), await shape(after));

describe('workflowDrift', () => {
  it('finds nothing when only comments, layout, key order or the description changed', async () => {
    const same = base
      .replace('{ id: a, type: shell, config: { run: "echo a" } }', '{ type: shell, id: a, config: { run: "echo a" } } # first')
      .replace('env:', '\n\ndescription: now described\nenv:');
    expect(hasDrift(await drift(same))).toBe(false);
  });

  it('names a changed child without blaming its group, and a changed group setting on the group', async () => {
    expect(await drift(base.replace('echo c', 'echo C'))).toEqual({ changed: ['c'], removed: [], settings: [] });
    expect(await drift(base.replace('max_concurrency: 2', 'max_concurrency: 3'))).toEqual({ changed: ['g'], removed: [], settings: [] });
  });

  it('names new, removed and handler steps, and settings every step reads', async () => {
    const after = base
      .replace('  - { id: d, type: transform, config: { value: 1 } }\n', '  - { id: e, type: transform, config: { value: 1 } }\n')
      .replace('run: "true"', 'run: "false"')
      .replace('A: "1"', 'A: "2"');
    expect(await drift(after)).toEqual({ changed: ['e', 'tidy'], removed: ['d'], settings: ['env'] });
  });

  it('counts a step moved to another list, and main steps that now come before one they followed', async () => {
    const moved = base
      .replace('  - { id: d, type: transform, config: { value: 1 } }\n', '')
      .replace('finally:\n', 'finally:\n  - { id: d, type: transform, config: { value: 1 } }\n');
    expect((await drift(moved)).changed).toEqual(['d']);
    const reordered = base
      .replace('  - { id: d, type: transform, config: { value: 1 } }\n', '')
      .replace('steps:\n  - { id: a', 'steps:\n  - { id: d, type: transform, config: { value: 1 } }\n  - { id: a');
    expect((await drift(reordered)).changed).toEqual(['d', 'a', 'g', 'b', 'c']);
  });

  it('holds digests only: a secret in the text does not appear in the shape', async () => {
    const s = await shape(base.replace('echo a', 'echo tokval-XYZ'));
    expect(JSON.stringify(s)).not.toContain('tokval');
  });
});
