import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/events.js';
import type { StepResult } from '../../src/model/run.js';
import { duration, plainReporter } from '../../src/report/plain.js';
import { aResult, aRun } from '../helpers/records.js';

const result = (r: Partial<StepResult>): StepResult => aResult(r.status ?? 'succeeded', r);

describe('plainReporter', () => {
  it('prints one line per event, with output split into lines and the rest flushed at the end', () => {
    const lines: string[] = [];
    const report = plainReporter((l) => lines.push(l));
    const events: FlowEvent[] = [
      {
        type: 'run-started',
        run: aRun({ workflowName: 'demo', definition: '', definitionHash: '', startedAt: '' }),
        resumed: false,
      },
      { type: 'step-started', runId: 'r1', stepId: 'a', item: -1, attempt: 1, kind: 'action', at: '', durable: true },
      { type: 'step-output', runId: 'r1', stepId: 'a', item: -1, attempt: 1, stream: 'stdout', text: 'one\ntw' },
      { type: 'step-output', runId: 'r1', stepId: 'a', item: -1, attempt: 1, stream: 'stdout', text: 'o\nthr' },
      {
        type: 'step-retrying',
        runId: 'r1',
        stepId: 'a',
        item: -1,
        attempt: 1,
        delayMs: 1500,
        error: { class: 'exit:1', message: 'boom' },
        at: '',
        durable: true,
      },
      {
        type: 'step-finished',
        runId: 'r1',
        stepId: 'a',
        item: -1,
        kind: 'action',
        attempt: 2,
        result: result({}),
        durationMs: 12,
        durable: true,
      },
      {
        type: 'step-finished',
        runId: 'r1',
        stepId: 'b',
        item: 2,
        kind: 'action',
        attempt: 0,
        result: result({ status: 'skipped', reason: 'if: x was false' }),
        durationMs: 0,
        durable: false,
      },
      { type: 'step-restored', runId: 'r1', stepId: 'c', item: -1, result: result({}) },
      { type: 'cache-hit', runId: 'r1', stepId: 'd', item: -1, key: 'k' },
      { type: 'log', runId: 'r1', level: 'warning', message: 'careful' },
      {
        type: 'run-finished',
        runId: 'r1',
        status: 'failed',
        durationMs: 65_000,
        error: { class: 'exit:1', message: "step 'a': boom" },
        outputs: undefined,
        at: '',
      },
    ];
    events.forEach(report);
    expect(lines).toEqual([
      'flow: run r1 started: demo (w.yaml)',
      '[a] started',
      '[a] | one',
      '[a] | two',
      '[a] attempt 1 failed (exit:1: boom); retrying in 1.5s',
      '[a] | thr',
      '[a] succeeded in 12ms',
      '[b[2]] skipped (if: x was false)',
      '[c] succeeded earlier; output restored',
      '[d] cache hit',
      'flow: warning: careful',
      "flow: run r1 failed in 1m5s: step 'a': boom",
    ]);
  });

  it.each([
    [12.4, '12ms'],
    [1500, '1.5s'],
    [125_000, '2m5s'],
  ])('duration(%d) = %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

describe('plainReporter, restored steps', () => {
  const restored = (stepId: string): FlowEvent => ({
    type: 'step-restored',
    runId: 'r1',
    stepId,
    item: -1,
    result: aResult(),
  });
  const log: FlowEvent = { type: 'log', runId: 'r1', level: 'info', message: 'next' };

  it('lists a few restored steps, one line each, before the next event', () => {
    const lines: string[] = [];
    const report = plainReporter((l) => lines.push(l));
    for (const e of [restored('a'), restored('b'), log]) report(e);
    expect(lines).toEqual(['[a] succeeded earlier; output restored', '[b] succeeded earlier; output restored', 'flow: next']);
  });

  it('sums up a long run of restored steps in one line', () => {
    const lines: string[] = [];
    const report = plainReporter((l) => lines.push(l));
    for (let i = 0; i < 500; i++) report(restored(`s${i}`));
    report(log);
    expect(lines).toEqual(['flow: 500 steps restored from the record (they succeeded earlier), [s0] to [s499]', 'flow: next']);
  });
});
