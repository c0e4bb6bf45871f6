import { describe, expect, it } from 'vitest';
import { RunTally } from '../../src/report/run-tally.js';
import { aiLine } from '../../src/report/ai-spend.js';
import type { ModelSpend } from '../../src/model/spend.js';
import { runStarted, stepError, stepFinished, stepItems, stepOutput, stepRetrying, stepStarted } from '../helpers/events.js';

describe('RunTally', () => {
  it('gives a workflow step its child run’s output, so its failure shows the child’s last lines', () => {
    const tally = new RunTally(() => 0);
    tally.apply(runStarted({ id: 'r1' }));
    tally.apply(stepStarted('sub'));
    tally.apply(runStarted({ id: 'c1', parentRunId: 'r1' }));
    tally.apply(stepStarted('sub/build', { runId: 'c1' }));
    tally.apply(stepOutput('sub/build', 'error: X.c:12 undefined symbol\n', { runId: 'c1', stream: 'stderr' }));
    tally.apply(stepFinished('sub', 5, { status: 'failed', error: stepError('child workflow failed') }));
    expect(tally.steps.get('sub')?.combined).toBe('error: X.c:12 undefined symbol\n');
    expect(tally.steps.has('sub/build')).toBe(false);
  });

  it('lets go of a passed item’s output and of every step’s output value; a failed item keeps its tail', () => {
    const tally = new RunTally(() => 0, { keepPassedItems: true, passedItemOutput: (item) => (item === 0 ? 3 : 0) });
    tally.apply(runStarted({ id: 'r1' }));
    tally.apply(stepStarted('each', { kind: 'for_each' }));
    tally.apply(stepItems('each', 3));
    for (const item of [0, 1, 2]) {
      tally.apply(stepStarted('each', { item }));
      tally.apply(stepOutput('each', `item ${item} output\n`, { item }));
    }
    const big = { stdout: 'x'.repeat(100_000) };
    tally.apply(stepFinished('each', 1, { output: big }, { item: 0 }));
    tally.apply(stepFinished('each', 1, { output: big }, { item: 1 }));
    tally.apply(stepFinished('each', 1, { status: 'failed', error: stepError('exit 1') }, { item: 2 }));
    expect(tally.steps.get('each[0]')?.stdout).toBe('ut\n');
    expect(tally.steps.get('each[1]')?.combined).toBe('');
    expect(tally.steps.get('each[2]')?.combined).toBe('item 2 output\n');
    expect(tally.steps.get('each[0]')?.result?.output).toBeNull();
    expect(tally.steps.get('each')?.items).toEqual({ total: 3, finished: { succeeded: 2, failed: 1 } });
  });

  it('forgets a passed item once its for_each has counted it, unless asked to keep it; a failed item stays', () => {
    const tally = new RunTally(() => 0);
    tally.apply(runStarted({ id: 'r1' }));
    tally.apply(stepStarted('each', { kind: 'for_each' }));
    tally.apply(stepItems('each', 3));
    for (const item of [0, 1, 2]) tally.apply(stepStarted('each', { item }));
    expect(tally.runningSteps().map((s) => s.key)).toEqual(['each', 'each[0]', 'each[1]', 'each[2]']);
    const finished = tally.apply(stepFinished('each', 1, {}, { item: 0 }));
    expect(finished?.status).toBe('succeeded');
    tally.apply(stepFinished('each', 1, { status: 'skipped' }, { item: 1 }));
    tally.apply(stepFinished('each', 1, { status: 'failed', error: stepError('exit 1') }, { item: 2 }));
    expect([...tally.steps.keys()]).toEqual(['each', 'each[2]']);
    expect(tally.steps.get('each')?.items).toEqual({ total: 3, finished: { succeeded: 1, skipped: 1, failed: 1 } });
    expect(tally.runningSteps().map((s) => s.key)).toEqual(['each']);
  });

  it('sums what the run’s model calls took, failed attempts’ and child runs’ too, and says when a cost is not known', () => {
    const tally = new RunTally(() => 0);
    tally.apply(runStarted({ id: 'r1' }));
    const ai = (cost: number | null, prompt: number, completion: number): ModelSpend => ({
      calls: 1,
      promptTokens: prompt,
      completionTokens: completion,
      models: ['m'],
      cachedTokens: 0,
      cost: cost ?? 0,
      unpriced: cost === null ? 1 : 0,
    });
    tally.apply(stepRetrying('a', 1, 10, stepError('cut off'), { ai: ai(0.0011, 500, 100) }));
    tally.apply(stepFinished('a', 1, { attempts: 2 }, { ai: ai(0.001, 500, 100) }));
    tally.apply(runStarted({ id: 'c1', parentRunId: 'r1' }));
    tally.apply(stepFinished('sub/b', 1, {}, { runId: 'c1', ai: ai(0.0001, 100, 20) }));
    tally.apply(stepFinished('c', 1, { output: { exit_code: 0, stdout: '' } }));
    expect(aiLine(tally.ai)).toBe('3 calls, 1,320 tokens (1,100 in, 220 out), $0.0022');
    tally.apply(stepFinished('d', 1, {}, { ai: ai(null, 5, 5) }));
    expect(aiLine(tally.ai)).toBe('4 calls, 1,330 tokens (1,105 in, 225 out), $0.0022 (+ 1 call of unknown cost)');
  });
});
