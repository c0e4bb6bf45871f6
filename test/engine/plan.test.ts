import { describe, expect, it } from 'vitest';
import { planRun, type PlannedStep, type RecordedResults } from '../../src/engine/plan.js';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { StepResult, StepStatus } from '../../src/model/run.js';
import { aResult } from '../helpers/records.js';

const workflow = async () => {
  const yaml =
    'steps:\n  - { id: a, type: transform, config: { value: 1 } }\n' +
    '  - id: g\n    parallel:\n      steps:\n        - { id: b, type: transform, config: { value: 1 } }\n        - id: seq\n          steps:\n            - { id: c, type: transform, config: { value: 1 } }\n' +
    '  - { id: each, for_each: [1, 2, 3], type: transform, config: { value: "${{ item }}" } }\n' +
    'finally:\n  - { id: tidy, type: transform, config: { value: 1 } }\n';
  const r = await validateSource('w.yaml', yaml, nodeHost);
  return r.workflow!;
};

const result = (status: StepStatus): StepResult => aResult(status);
const recorded = (entries: [string, StepStatus][]): RecordedResults => new Map(entries.map(([k, s]) => [k, result(s)]));
const decisions = (steps: readonly PlannedStep[]): string[] =>
  steps.flatMap((s) => [
    `${s.id}:${s.decision}${s.restoredItems.size ? `[${[...s.restoredItems].join(',')}]` : ''}`,
    ...decisions(s.children),
  ]);

// The plan is a pure function of the workflow and the record: what is kept, and what runs.
describe('planRun', () => {
  it.each([
    ['a new run runs everything', [], ['a:run', 'g:run', 'b:run', 'seq:run', 'c:run', 'each:run']],
    [
      'succeeded and skipped steps are restored; failed, interrupted and cancelled ones run',
      [
        ['a#-1', 'succeeded'],
        ['b#-1', 'skipped'],
        ['c#-1', 'failed'],
        ['seq#-1', 'interrupted'],
        ['g#-1', 'cancelled'],
      ],
      ['a:restore', 'g:run', 'b:restore', 'seq:run', 'c:run', 'each:run'],
    ],
    ['a succeeded group is restored whole', [['g#-1', 'succeeded']], ['a:run', 'g:restore', 'b:run', 'seq:run', 'c:run', 'each:run']],
    [
      'a for_each keeps its succeeded items and runs the rest',
      [
        ['each#0', 'succeeded'],
        ['each#1', 'failed'],
        ['each#2', 'succeeded'],
      ],
      ['a:run', 'g:run', 'b:run', 'seq:run', 'c:run', 'each:run[0,2]'],
    ],
    [
      'a for_each that succeeded is restored whole',
      [
        ['each#-1', 'succeeded'],
        ['each#0', 'succeeded'],
      ],
      ['a:run', 'g:run', 'b:run', 'seq:run', 'c:run', 'each:restore'],
    ],
  ] as const)('%s', async (_name, entries, expected) => {
    const plan = planRun(await workflow(), recorded(entries as unknown as [string, StepStatus][]));
    expect(decisions(plan.steps)).toEqual(expected);
  });

  it('runs a succeeded step or item again when its output held a secret (stored masked)', async () => {
    const masked = { ...result('succeeded'), masked: true };
    const plan = planRun(
      await workflow(),
      new Map([
        ['a#-1', masked],
        ['b#-1', result('succeeded')],
        ['each#0', masked],
        ['each#1', result('succeeded')],
      ]),
    );
    expect(decisions(plan.steps)).toEqual(['a:run', 'g:run', 'b:restore', 'seq:run', 'c:run', 'each:run[1]']);
  });

  it('plans the handlers too', async () => {
    const plan = planRun(await workflow(), recorded([['tidy#-1', 'succeeded']]));
    expect(decisions(plan.finally)).toEqual(['tidy:restore']);
    expect(plan.byId.get('c')?.kind).toBe('action');
    expect(plan.byId.get('each')?.kind).toBe('for_each');
  });
});
