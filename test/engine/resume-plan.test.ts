import { describe, expect, it } from 'vitest';
import { keptResults, stepOrder } from '../../src/engine/resume-plan.js';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { StepResult } from '../../src/model/run.js';
import type { StoredStepResult } from '../../src/state/run-store.js';
import { aResult } from '../helpers/records.js';

const workflow = async () => {
  const yaml =
    'steps:\n  - { id: a, type: transform, config: { value: 1 }, on_error: { fallback: rescue } }\n' +
    '  - id: g\n    parallel:\n      steps:\n        - { id: b, type: transform, config: { value: 1 } }\n        - id: seq\n          steps:\n            - { id: c, type: transform, config: { value: 1 } }\n' +
    '  - { id: each, for_each: [1, 2, 3], type: transform, config: { value: "${{ item }}" } }\n' +
    'fallbacks:\n  - { id: rescue, type: transform, config: { value: 2 } }\n' +
    'on_failure:\n  - { id: alarm, type: transform, config: { value: 1 } }\n' +
    'finally:\n  - { id: tidy, type: transform, config: { value: 1 } }\n';
  const r = await validateSource('w.yaml', yaml, nodeHost);
  return r.workflow!;
};

const done: StepResult = aResult('succeeded', { output: 1 });
const stored = (...keys: string[]): StoredStepResult[] =>
  keys.map((k) => {
    const [stepId, item] = k.split('#');
    return { stepId: stepId!, item: Number(item ?? -1), result: done };
  });
const keys = (rs: StoredStepResult[]) => rs.map((r) => (r.item >= 0 ? `${r.stepId}#${r.item}` : r.stepId));

describe('stepOrder', () => {
  it('lists steps in file order, groups before their children, with each step’s enclosing groups', async () => {
    const { order, parents } = stepOrder((await workflow()).steps);
    expect(order).toEqual(['a', 'g', 'b', 'seq', 'c', 'each']);
    expect(parents.get('c')).toEqual(['g', 'seq']);
    expect(parents.get('a')).toEqual([]);
  });
});

describe('keptResults', () => {
  it('keeps every main step and item, a fallback’s record with its step, and never a handler', async () => {
    const all = stored('a', 'a.rescue', 'b', 'c', 'seq', 'g', 'each#0', 'each#1', 'alarm', 'tidy');
    expect(keys(keptResults(await workflow(), all))).toEqual(['a', 'a.rescue', 'b', 'c', 'seq', 'g', 'each#0', 'each#1']);
  });

  it('with from, drops that step, all after it, and the groups around it', async () => {
    const all = stored('a', 'a.rescue', 'b', 'c', 'seq', 'g', 'each#0');
    expect(keys(keptResults(await workflow(), all, { from: 'c' }))).toEqual(['a', 'a.rescue', 'b']);
    expect(keys(keptResults(await workflow(), all, { from: 'a' }))).toEqual([]);
    expect(keys(keptResults(await workflow(), all, { from: 'each' }))).toEqual(['a', 'a.rescue', 'b', 'c', 'seq', 'g']);
  });

  it('drops records of steps the workflow no longer has', async () => {
    expect(keys(keptResults(await workflow(), stored('a', 'gone', 'gone.rescue')))).toEqual(['a']);
  });
});
