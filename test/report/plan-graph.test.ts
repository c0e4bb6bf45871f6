import { describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import { graphOf } from '../../src/report/plan-graph.js';

async function graph(yaml: string) {
  const checked = await validateSource('w.yaml', yaml, nodeHost);
  expect(checked.valid, JSON.stringify(checked.diagnostics)).toBe(true);
  return graphOf(checked.workflow!);
}

describe('graphOf', () => {
  it('draws groups around their children, a for_each as one node, and each handler section apart', async () => {
    const g = await graph(`name: g
steps:
  - id: both
    parallel:
      steps:
        - { id: a, type: shell, config: { run: "true" } }
        - { id: b, type: shell, for_each: [1, 2], config: { run: "true" } }
finally:
  - { id: tidy, type: shell, config: { run: "true" } }
`);
    expect(g['steps']).toEqual([
      {
        id: 'both',
        kind: 'parallel',
        type: null,
        for_each: false,
        prompt: null,
        children: [
          { id: 'a', kind: 'action', type: 'shell', for_each: false, children: [], prompt: null },
          { id: 'b', kind: 'action', type: 'shell', for_each: true, children: [], prompt: null },
        ],
      },
    ]);
    expect(g['finally']!.map((n) => n.id)).toEqual(['tidy']);
  });

  it("gives an AI step's question as written: system and prompt, messages, or what the step before gave", async () => {
    const g = await graph(`name: g
steps:
  - { id: one, type: ai, config: { model: m, system: "Be brief.", prompt: "Classify \${{ inputs.x }}" } }
  - { id: two, type: ai, config: { model: m, messages: [{ role: user, content: hi }, { role: assistant, content: hello }] } }
  - { id: three, type: ai, config: { model: m } }
inputs: { x: { type: string, default: a } }
`);
    expect(g['steps']!.map((n) => n.prompt)).toEqual([
      'Be brief.\n\nClassify ${{ inputs.x }}',
      'user: hi\nassistant: hello',
      '(what the step before gave)',
    ]);
  });
});
