import { describe, expect, it } from 'vitest';
import { attemptContext } from '../../src/engine/attempt-context.js';
import { extendScope, type Scope } from '../../src/engine/run-context.js';
import { outputOf, runYaml } from '../helpers/engine.js';

const scope: Scope = {
  inputs: { n: 1 },
  env: { HOME: '/h' },
  secrets: { token: 's' },
  steps: {},
  run: { id: 'r', attempt: 1, workflow: 'w.yaml', name: 'w', started_at: 't' },
  previous: 'before',
};

describe('extendScope', () => {
  it('keeps every name of the scope and adds the item, or the output', () => {
    const item = extendScope(scope, { item: 'x', index: 3 });
    for (const key of Object.keys(scope) as (keyof Scope)[]) expect(item[key]).toBe(scope[key]);
    expect([item.item, item.index, item.output]).toEqual(['x', 3, undefined]);
    const output = extendScope(item, { output: 42 });
    expect([output.item, output.index, output.output, output.previous]).toEqual(['x', 3, 42, 'before']);
  });

  it('gives a for_each item and a step’s outputs what they read', async () => {
    const run = await runYaml(`
steps:
  - id: each
    type: transform
    for_each: "\${{ ['a', 'b'] }}"
    config: { value: "\${{ item & index & previous & inputs.n }}" }
  - id: one
    type: transform
    config: { value: [5, 6] }
    outputs: { first: "\${{ output[0] + inputs.n }}" }
inputs:
  n: { type: number, default: 7 }
`);
    expect(outputOf(run, 'each')).toEqual(['a0null7', 'b1null7']);
    expect(run.outcome.results.get('one')?.outputs).toEqual({ first: 12 });
  });
});

describe('attemptContext', () => {
  it('builds env once, on its first read, and never for a step that does not read it', () => {
    let built = 0;
    const fields = { runId: 'r', stepId: 's', attempt: 1, item: -1 } as Parameters<typeof attemptContext>[0];
    const context = attemptContext(fields, () => {
      built++;
      return { A: '1' };
    });
    expect(context.stepId).toBe('s');
    expect(built).toBe(0);
    expect(context.env).toEqual({ A: '1' });
    expect(context.env).toBe(context.env);
    expect(built).toBe(1);
  });
});
