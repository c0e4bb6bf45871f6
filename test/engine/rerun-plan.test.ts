import { describe, expect, it } from 'vitest';
import { workflowShape } from '../../src/engine/drift.js';
import { rerunResults } from '../../src/engine/rerun-plan.js';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { Workflow } from '../../src/model/workflow.js';
import type { StoredStepResult } from '../../src/state/run-store.js';
import { aResult } from '../helpers/records.js';

const HEAD = 'inputs:\n  n: { type: number }\n  who: { type: string, default: ann }\nsecrets: [TOKEN]\n';
const STEPS =
  'steps:\n' +
  '  - { id: fetch, type: shell, config: { run: "echo fetched" } }\n' +
  '  - { id: greet, type: shell, config: { run: "echo ${{ inputs.who }}" } }\n' +
  '  - { id: count, type: transform, config: { value: "${{ inputs.n * 2 }}" } }\n' +
  '  - { id: report, type: shell, config: { run: "echo done" } }\n';

const load = async (text: string): Promise<Workflow> => {
  const checked = await validateSource('w.yaml', text, nodeHost);
  if (!checked.workflow) throw new Error(JSON.stringify(checked.diagnostics));
  return checked.workflow;
};

const results = (workflow: Workflow): StoredStepResult[] => {
  const ids: string[] = [];
  const walk = (steps: Workflow['steps']) => {
    for (const s of steps) {
      ids.push(s.id);
      if (s.kind !== 'action') walk(s.steps);
    }
  };
  walk(workflow.steps);
  return ids.map((stepId) => ({ stepId, item: -1, result: aResult('succeeded', { output: stepId }) }));
};

/** The ids a rerun of `before` (run with `was`) takes over when it runs `after` with `now`. */
const kept = async (before: string, was: Record<string, unknown>, after: string, now: Record<string, unknown>) => {
  const earlier = await load(before);
  const taken = rerunResults(await load(after), { shape: workflowShape(earlier), inputs: was, results: results(earlier) }, now);
  return taken.map((r) => r.stepId);
};

describe('rerunResults', () => {
  it('takes over every main step when neither the file nor an input changed', async () => {
    expect(await kept(HEAD + STEPS, { n: 1, who: 'ann' }, HEAD + STEPS, { n: 1, who: 'ann' })).toEqual([
      'fetch',
      'greet',
      'count',
      'report',
    ]);
  });

  it('runs again from the first step that reads a changed input, and every step after it', async () => {
    expect(await kept(HEAD + STEPS, { n: 1, who: 'ann' }, HEAD + STEPS, { n: 2, who: 'ann' })).toEqual(['fetch', 'greet']);
    expect(await kept(HEAD + STEPS, { n: 1, who: 'ann' }, HEAD + STEPS, { n: 1, who: 'bob' })).toEqual(['fetch']);
  });

  it('counts an input as changed when only one run has it, and a masked secret input as always changed', async () => {
    expect(await kept(HEAD + STEPS, { n: 1 }, HEAD + STEPS, { n: 1, who: 'ann' })).toEqual(['fetch']);
    const secret = `inputs:\n  n: { type: number }\n  key: { type: string, secret: true }\n${STEPS.replace('inputs.who', 'inputs.key')}`;
    expect(await kept(secret, { key: '***' }, secret, { key: '***' })).toEqual(['fetch', 'greet', 'count', 'report']);
    expect(await kept(secret, { key: '***' }, secret, { key: 'hunter2' })).toEqual(['fetch']);
  });

  it('finds inputs read in a bare if, in env, in for_each, in outputs and by reading inputs whole', async () => {
    const variants = [
      '  - { id: greet, type: shell, if: "inputs.who = \'ann\'", config: { run: "echo hi" } }\n',
      '  - { id: greet, type: shell, env: { WHO: "${{ inputs.who }}" }, config: { run: "echo $WHO" } }\n',
      '  - { id: greet, type: shell, for_each: "${{ [inputs.who] }}", config: { run: "echo ${{ item }}" } }\n',
      '  - { id: greet, type: shell, config: { run: "echo hi" }, outputs: { who: "${{ inputs.who }}" } }\n',
      '  - { id: greet, type: transform, config: { value: "${{ $keys(inputs) }}" } }\n',
      '  - { id: greet, type: input }\n',
    ];
    for (const greet of variants) {
      const text = HEAD + STEPS.replace(/ {2}- \{ id: greet.*\n/, greet);
      expect(await kept(text, { n: 1, who: 'ann' }, text, { n: 1, who: 'bob' }), greet).toEqual(['fetch']);
    }
  });

  it('runs a group again from the group when the group reads a changed input, and keeps what came before it', async () => {
    const grouped =
      HEAD +
      'steps:\n  - { id: fetch, type: shell, config: { run: "echo fetched" } }\n' +
      '  - id: both\n    env: { WHO: "${{ inputs.who }}" }\n    parallel:\n      steps:\n' +
      '        - { id: left, type: shell, config: { run: "echo l" } }\n        - { id: right, type: shell, config: { run: "echo r" } }\n';
    expect(await kept(grouped, { n: 1, who: 'ann' }, grouped, { n: 1, who: 'bob' })).toEqual(['fetch']);
    expect(await kept(grouped, { n: 1, who: 'ann' }, grouped, { n: 2, who: 'ann' })).toEqual(['fetch', 'both', 'left', 'right']);
  });

  it('runs again from a step whose definition changed; a changed setting every step reads runs everything', async () => {
    const edited = HEAD + STEPS.replace('echo done', 'echo finished');
    expect(await kept(HEAD + STEPS, { n: 1, who: 'ann' }, edited, { n: 1, who: 'ann' })).toEqual(['fetch', 'greet', 'count']);
    const withEnv = `env: { MODE: fast }\n${HEAD}${STEPS}`;
    expect(await kept(HEAD + STEPS, { n: 1, who: 'ann' }, withEnv, { n: 1, who: 'ann' })).toEqual([]);
    const envReadsInput = `env: { WHO: "\${{ inputs.who }}" }\n${HEAD}${STEPS}`;
    expect(await kept(envReadsInput, { n: 1, who: 'ann' }, envReadsInput, { n: 1, who: 'bob' })).toEqual([]);
  });

  it('takes nothing over from a run recorded before runs recorded their shape', async () => {
    const earlier = await load(HEAD + STEPS);
    expect(
      rerunResults(earlier, { shape: undefined, inputs: { n: 1, who: 'ann' }, results: results(earlier) }, { n: 1, who: 'ann' }),
    ).toEqual([]);
  });
});
