import { describe, expect, it } from 'vitest';
import type { RunRecord, StepResult } from '../../src/model/run.js';
import { oneLine, showJson, showText } from '../../src/report/history.js';
import { runJson, runsTable } from '../../src/report/run-list.js';
import { formatLogs } from '../../src/report/logs.js';
import { type RunDetail, stepViews } from '../../src/report/step-views.js';
import { stepLayout } from '../../src/report/step-layout.js';
import type { RunSummary } from '../../src/state/run-history.js';
import type { StoredStepResult } from '../../src/state/run-store.js';

const T = '2026-03-01T10:00:00';
const at = (ms: number) => new Date(Date.parse(`${T}.000Z`) + ms).toISOString();

const summary = (r: Partial<RunSummary>): RunSummary => ({
  id: 'r1',
  workflowName: 'build',
  workflowPath: '/w/build.yaml',
  status: 'succeeded',
  startedAt: at(0),
  endedAt: at(1500),
  attempt: 1,
  ...r,
});

const DEFINITION = `steps:
  - { id: fetch, type: shell, config: { run: "true" }, on_error: { fallback: mirror } }
  - id: checks
    parallel:
      steps:
        - { id: lint, type: shell, config: { run: "true" }, cache: true }
        - id: inner
          steps:
            - { id: unit, type: shell, config: { run: "true" } }
  - { id: each, type: shell, for_each: [1, 2, 3], config: { run: "true" } }
  - { id: last, type: transform, config: { value: 1 } }
fallbacks:
  - { id: mirror, type: transform, config: { value: 1 } }
finally:
  - { id: tidy, type: transform, config: { value: 1 } }
`;

const result = (r: Partial<StepResult>, from = 0, ms = 10): StepResult => ({
  status: 'succeeded',
  output: null,
  outputs: {},
  error: undefined,
  reason: undefined,
  attempts: 1,
  startedAt: at(from),
  endedAt: at(from + ms),
  ...r,
});

const step = (stepId: string, r: Partial<StepResult>, from: number, item = -1): StoredStepResult => ({
  stepId,
  item,
  result: result(r, from),
});

const run = (r: Partial<RunRecord> = {}): RunRecord => ({
  id: 'r1',
  workflowName: 'build',
  workflowPath: '/w/build.yaml',
  definition: DEFINITION,
  definitionHash: 'h',
  inputs: { who: 'ada', token: '***' },
  status: 'failed',
  startedAt: at(0),
  endedAt: at(2000),
  outputs: undefined,
  error: { class: 'exit:1', message: "step 'each': item 1 failed" },
  parentRunId: undefined,
  attempt: 2,
  owner: undefined,
  heartbeatAt: undefined,
  ...r,
});

// Recorded in the order the steps ended (a parallel group's children before the group), as the store keeps them.
const STEPS: StoredStepResult[] = [
  step('fetch', { status: 'failed', attempts: 3, error: { class: 'exit:6', message: 'could not resolve host' } }, 1),
  step('fetch.mirror', { output: 'from the mirror' }, 2),
  step('unit', { output: { exit_code: 0, stdout: 'x'.repeat(200) } }, 3),
  step('lint', { reason: 'cache hit', output: { exit_code: 0 } }, 4),
  step('inner', { attempts: 0, output: {} }, 3),
  step('checks', { attempts: 0, output: {} }, 3),
  step('each', { output: 1 }, 5, 0),
  step('each', { status: 'failed', attempts: 2, error: { class: 'exit:1', message: 'boom' } }, 6, 1),
  step('each', { status: 'cancelled', error: { class: 'cancelled', message: 'item 1 failed' } }, 6, 2),
  step('each', { status: 'failed', attempts: 0, error: { class: 'exit:1', message: 'boom' } }, 5),
  step('tidy', { output: 1 }, 9),
];

const detail = (r: Partial<RunRecord> = {}, steps = STEPS): RunDetail => ({
  run: run(r),
  steps,
  layout: stepLayout(r.definition ?? DEFINITION),
  children: [summary({ id: 'c1', workflowName: 'child', status: 'succeeded' })],
  spend: [],
});

describe('flow runs as text and JSON', () => {
  it('prints an aligned table, newest first as given, with durations, a running run still counting', () => {
    const text = runsTable(
      [
        summary({ id: '01running', status: 'running', endedAt: undefined, startedAt: at(0) }),
        summary({ id: '01long-id-of-a-failed-run', status: 'failed', workflowName: 'deploy-prod', attempt: 3 }),
        summary({ id: '01gone', status: 'interrupted', endedAt: undefined }),
      ],
      Date.parse(at(65_000)),
    );
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+WORKFLOW\s+STARTED\s+DURATION\s+ATTEMPT$/);
    expect(lines[1]).toMatch(/^01running\s+running\s+build\s+2026-03-01T10:00:00Z\s+1m5s…\s+1$/);
    expect(lines[2]).toMatch(/^01long-id-of-a-failed-run\s+failed\s+deploy-prod\s+2026-03-01T10:00:00Z\s+1\.5s\s+3$/);
    expect(lines[3]).toMatch(/^01gone\s+interrupted\s+build\s+\S+\s+-\s+1$/);
    // Every column starts at the same place on every line.
    for (const header of ['STATUS', 'WORKFLOW', 'STARTED', 'DURATION', 'ATTEMPT']) {
      const column = lines[0]!.indexOf(header);
      for (const line of lines.slice(1)) expect(line[column - 1]).toBe(' ');
      for (const line of lines.slice(1)) expect(line[column]).not.toBe(' ');
    }
  });

  it('gives each run the documented snake_case JSON fields', () => {
    expect(runJson(summary({}))).toEqual({
      id: 'r1',
      status: 'succeeded',
      workflow: 'build',
      path: '/w/build.yaml',
      started_at: at(0),
      ended_at: at(1500),
      duration_ms: 1500,
      attempt: 1,
      ai: null,
    });
    const spend = { calls: 2, models: ['m'], promptTokens: 10, completionTokens: 5, cachedTokens: 0, cost: 0.25, unpriced: 0 };
    expect(runJson(summary({ ai: spend })).ai).toMatchObject({ calls: 2, prompt_tokens: 10, cost_usd: 0.25 });
    expect(runJson(summary({ endedAt: undefined }))).toMatchObject({ ended_at: null, duration_ms: null });
  });
});

describe('stepLayout', () => {
  it("places each step of a run's snapshot: its depth, its group and its list", () => {
    expect(stepLayout(DEFINITION).map((p) => [p.id, p.depth, p.group ?? null, p.section])).toEqual([
      ['fetch', 0, null, 'steps'],
      ['checks', 0, null, 'steps'],
      ['lint', 1, 'checks', 'steps'],
      ['inner', 1, 'checks', 'steps'],
      ['unit', 2, 'inner', 'steps'],
      ['each', 0, null, 'steps'],
      ['last', 0, null, 'steps'],
      ['tidy', 0, null, 'finally'],
      ['mirror', 0, null, 'fallbacks'],
    ]);
    expect(stepLayout('steps: [unclosed')).toEqual([]);
  });
});

describe('flow show as text', () => {
  const text = showText(detail());
  const lines = text.split('\n');
  const row = (name: string) => lines.find((l) => l.trimStart().startsWith(`${name} `)) ?? '';

  it('heads with the run: status, workflow, attempt, times, error', () => {
    expect(lines[0]).toBe('run r1: failed');
    expect(text).toMatch(/^ {2}workflow\s+build \(\/w\/build\.yaml\)$/m);
    expect(text).toMatch(/^ {2}attempt\s+2$/m);
    expect(text).toMatch(/^ {2}ended\s+2026-03-01T10:00:02Z \(2\.0s\)$/m);
    expect(text).toMatch(/^ {2}error\s+exit:1: step 'each': item 1 failed$/m);
  });

  it('lists the steps in the order of the file, each group indented, a fallback after its step, handlers last', () => {
    const table = text.split('\n\n')[1]!.split('\n');
    expect(table[0]).toMatch(/^STEP\s+STATUS\s+ATTEMPTS\s+DURATION\s+RESULT$/);
    const names = table.slice(1).map((l) => /^ *\S+(?: \(\w+\))?/.exec(l)?.[0]);
    expect(names).toEqual([
      'fetch',
      'fetch.mirror (fallbacks)',
      'checks',
      '  lint',
      '  inner',
      '    unit',
      'each',
      '  each[1]',
      'tidy (finally)',
    ]);
  });

  it('shows status, attempts, duration, and the error or a one-line output cut at 80 characters', () => {
    expect(row('fetch')).toMatch(/^fetch\s+failed\s+3\s+10ms\s+exit:6: could not resolve host$/);
    expect(row('fetch.mirror')).toMatch(/\s+from the mirror$/);
    const unit = row('unit');
    expect(unit).toMatch(/\{"exit_code":0,"stdout":"x+…$/);
    expect(unit.slice(unit.indexOf('{"exit'))).toHaveLength(80);
  });

  it('marks a step whose result came from the cache', () => {
    expect(row('lint')).toMatch(/^ {2}lint\s+succeeded \(cached\)\s+1\s/);
    expect(row('unit')).not.toContain('cached');
  });

  it('sums up a for_each by its items and lists the failed ones', () => {
    expect(row('each')).toMatch(/^each\s+failed\s+-\s+10ms\s+3 items: 1 succeeded, 1 failed, 1 cancelled$/);
    expect(row('each[1]')).toMatch(/^ {2}each\[1\]\s+failed\s+2\s+10ms\s+exit:1: boom$/);
    expect(text).not.toContain('each[0]');
  });

  it('lists the child runs by id', () => {
    expect(text).toMatch(/^child runs:\n {2}c1\s+succeeded\s+child$/m);
  });
});

describe('flow show as JSON', () => {
  const json = showJson(detail());

  it('holds the run and its documented fields', () => {
    expect(json).toMatchObject({
      id: 'r1',
      status: 'failed',
      workflow: 'build',
      path: '/w/build.yaml',
      attempt: 2,
      started_at: at(0),
      ended_at: at(2000),
      duration_ms: 2000,
      parent_run_id: null,
      inputs: { who: 'ada', token: '***' },
      outputs: null,
      error: { class: 'exit:1', message: "step 'each': item 1 failed" },
    });
    expect(json.child_runs.map((c) => c.id)).toEqual(['c1']);
  });

  it('gives each step its place, status, attempts, times, cache mark and output; a for_each its item counts', () => {
    const byId = new Map(json.steps.map((s) => [s.id, s]));
    expect(byId.get('lint')).toEqual({
      id: 'lint',
      group: 'checks',
      section: 'steps',
      status: 'succeeded',
      cached: true,
      attempts: 1,
      started_at: at(4),
      ended_at: at(14),
      duration_ms: 10,
      error: null,
      reason: 'cache hit',
      output: { exit_code: 0 },
      ai: null,
      attempt_history: [],
    });
    expect(byId.get('unit')).toMatchObject({ group: 'inner', cached: false });
    expect(byId.get('each')).toMatchObject({
      status: 'failed',
      items: { total: 3, succeeded: 1, failed: 1, cancelled: 1, skipped: 0, interrupted: 0, running: 0 },
      failed_items: [{ index: 1, status: 'failed', attempts: 2, error: { class: 'exit:1', message: 'boom' }, duration_ms: 10 }],
    });
    expect(byId.get('fetch')).not.toHaveProperty('items');
  });
});

describe('flow show: model spend', () => {
  const spend = (calls: number, cost: number, unpriced = 0) => ({
    calls,
    promptTokens: 100 * calls,
    completionTokens: 10 * calls,
    models: ['gpt-4o-mini'],
    cachedTokens: 0,
    cost,
    unpriced,
  });
  const withSpend: RunDetail = {
    ...detail(),
    spend: [
      { stepId: 'fetch', item: -1, spend: spend(1, 0.001) },
      { stepId: 'fetch', item: -1, spend: spend(1, 0.002) },
      { stepId: 'each', item: 0, spend: spend(1, 0, 1) },
      { stepId: 'each[2]/ask', item: -1, spend: spend(2, 0.004) },
    ],
  };

  it('sums each step’s attempts, its items and its child runs’ steps, and the whole run', () => {
    const json = showJson(withSpend);
    const byId = new Map(json.steps.map((s) => [s.id, s]));
    expect(byId.get('fetch')!.ai).toEqual({
      calls: 2,
      models: ['gpt-4o-mini'],
      prompt_tokens: 200,
      completion_tokens: 20,
      cached_tokens: 0,
      cost_usd: 0.003,
      unpriced_calls: 0,
    });
    expect(byId.get('each')!.ai).toMatchObject({ calls: 3, cost_usd: 0.004, unpriced_calls: 1 });
    expect(byId.get('lint')!.ai).toBeNull();
    expect(json.ai).toMatchObject({ calls: 5, prompt_tokens: 500, cost_usd: 0.007, unpriced_calls: 1 });
    expect(showText(withSpend)).toContain('ai: 5 calls, 550 tokens (500 in, 50 out), $0.007 (+ 1 call of unknown cost)');
    expect(showText(detail())).not.toContain('ai:');
  });
});

describe('stepViews', () => {
  it('shows a group still going, which has no record of its own yet, with the state of its run', () => {
    const steps = [step('lint', {}, 4)];
    expect(stepViews(detail({ status: 'running' }, steps)).map((v) => [v.id, v.result.status])).toEqual([
      ['checks', 'running'],
      ['lint', 'succeeded'],
    ]);
    expect(stepViews(detail({ status: 'interrupted' }, steps))[0]?.result.status).toBe('interrupted');
  });

  it('lists what the snapshot does not name last, and every step flat when the snapshot does not parse', () => {
    const steps = [step('gone', {}, 0), step('fetch', {}, 1)];
    expect(stepViews(detail({}, steps)).map((v) => v.id)).toEqual(['fetch', 'gone']);
    expect(stepViews(detail({ definition: '{' }, steps)).map((v) => [v.id, v.depth])).toEqual([
      ['gone', 0],
      ['fetch', 0],
    ]);
  });
});

describe('oneLine', () => {
  it('puts a value on one line and cuts it with an ellipsis', () => {
    expect(oneLine('a\n  b\n')).toBe('a b');
    expect(oneLine({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(oneLine('y'.repeat(100))).toBe(`${'y'.repeat(79)}…`);
    expect(oneLine(undefined)).toBe('null');
  });
});

describe('formatLogs', () => {
  const chunk = (stepId: string, text: string, attempt = 1, stream: 'stdout' | 'stderr' = 'stdout', item = -1) => ({
    stepId,
    item,
    attempt,
    stream,
    text,
  });

  it('prefixes each line with its step (and item), marks stderr, and heads attempts only when there are several', () => {
    expect(
      formatLogs([
        chunk('build', 'one\ntwo\n'),
        chunk('build', 'warn\n', 1, 'stderr'),
        chunk('each', 'item\n', 1, 'stdout', 2),
        chunk('flaky', 'try\n', 1),
        chunk('flaky', 'try again\nno newline', 2),
        chunk('sub/inner', 'child\n'),
      ]),
    ).toBe(
      [
        '[build] | one',
        '[build] | two',
        '[build] stderr | warn',
        '[each[2]] | item',
        '[flaky] attempt 1',
        '[flaky] | try',
        '[flaky] attempt 2',
        '[flaky] | try again',
        '[flaky] | no newline',
        '[sub/inner] | child',
      ].join('\n'),
    );
  });
});

describe('the README', () => {
  it('documents every field of flow runs --json and flow show --json', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### History'), readme.indexOf('### Exit codes'));
    const json = showJson(detail());
    const documented = (key: string) => new RegExp(`^\\| (\`[a-z_]+\`, )*\`${key}\``, 'm').test(section);
    for (const key of Object.keys(json)) expect(documented(key), key).toBe(true);
    for (const key of Object.keys(json.steps.find((s) => s.items)!)) expect(documented(key), key).toBe(true);
    for (const key of Object.keys(json.steps.find((s) => s.failed_items)!.failed_items![0]!)) expect(section).toContain(`"${key}"`);
    for (const key of Object.keys(json.steps.find((s) => s.items)!.items!)) expect(section).toContain(`"${key}"`);
  });
});
