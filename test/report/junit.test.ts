import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { FlowEvent, StepKind } from '../../src/model/events.js';
import type { StepResult } from '../../src/model/run.js';
import { ITEMS_LISTED, junitReporter } from '../../src/report/junit.js';
import { noColour } from '../../src/report/palette.js';
import type { ReportContext } from '../../src/report/reporter.js';
import { stepIndex } from '../../src/report/step-index.js';
import { tempDir } from '../helpers/engine.js';
import { expectGolden } from '../helpers/golden.js';
import { aResult, aRun } from '../helpers/records.js';

const JUNIT_XSD = join(import.meta.dirname, '..', 'fixtures', 'junit-4.xsd');

/** xmllint's verdict on a file against Jenkins' junit-4.xsd: '' when valid, else what xmllint said. */
function schemaErrors(file: string): string {
  const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint did not run (install libxml2-utils): ${r.error.message}`);
  return r.status === 0 ? '' : `xmllint exit ${r.status}: ${r.stderr}`;
}

const WORKFLOW = `name: demo
steps:
  - id: setup
    name: Set up
    type: shell
    config: { run: "true" }
  - id: flaky
    type: shell
    retry: { max_attempts: 3 }
    config: { run: "true" }
  - id: optional
    if: false
    type: shell
    config: { run: "true" }
  - id: each
    for_each: [a, b, c]
    type: shell
    config: { run: "echo \${{ item }}" }
  - id: checks
    parallel:
      steps:
        - { id: lint, type: shell, config: { run: "true" } }
        - { id: unit, type: shell, config: { run: "false" } }
        - { id: e2e, type: shell, config: { run: "true" } }
  - id: deploy
    type: shell
    config: { run: "true" }
on_success:
  - { id: celebrate, type: shell, config: { run: "true" } }
on_failure:
  - { id: notify, type: shell, config: { run: "true" } }
`;

const CLOCK = Date.UTC(2026, 2, 1, 12, 0, 0);

async function context(yaml = WORKFLOW): Promise<ReportContext> {
  const dir = tempDir('flow-junit-');
  const file = join(dir, 'w.yaml');
  writeFileSync(file, yaml);
  const checked = await validateSource(file, yaml, nodeHost);
  if (!checked.workflow) throw new Error(checked.diagnostics.map((d) => d.message).join('\n'));
  return {
    index: stepIndex(checked.workflow),
    workflowFile: 'w.yaml',
    resumeCommand: 'flow resume r1',
    palette: noColour,
    secrets: [],
    verbose: false,
    now: () => CLOCK,
  };
}

const run = { runId: 'r1' };
const started = (stepId: string, item = -1, attempt = 1, kind: StepKind = 'action'): FlowEvent => ({
  type: 'step-started',
  ...run,
  stepId,
  item,
  attempt,
  kind,
  at: '',
  durable: true,
});
const output = (stepId: string, text: string, stream: 'stdout' | 'stderr' = 'stdout', item = -1): FlowEvent => ({
  type: 'step-output',
  ...run,
  stepId,
  item,
  attempt: 1,
  stream,
  text,
});
const finished = (stepId: string, result: Partial<StepResult>, durationMs: number, item = -1, kind: StepKind = 'action'): FlowEvent => ({
  type: 'step-finished',
  ...run,
  stepId,
  item,
  kind,
  attempt: result.attempts ?? 1,
  result: aResult(result.status ?? 'succeeded', result),
  durationMs,
  durable: true,
});

// A failed run of WORKFLOW: every way a step can end, and output a report must clean.
const EVENTS: FlowEvent[] = [
  { type: 'run-started', run: aRun({ workflowName: 'demo' }), resumed: true },
  { type: 'step-restored', ...run, stepId: 'setup', item: -1, result: aResult() },
  started('flaky'),
  output('flaky', 'connecting\n'),
  {
    type: 'step-retrying',
    ...run,
    stepId: 'flaky',
    item: -1,
    attempt: 1,
    delayMs: 1500,
    error: { class: 'exit:1', message: 'exited with code 1' },
    at: '',
    durable: true,
  },
  started('flaky', -1, 2),
  {
    type: 'step-retrying',
    ...run,
    stepId: 'flaky',
    item: -1,
    attempt: 2,
    delayMs: 3000,
    error: { class: 'timeout', message: 'timed out after 5000 ms' },
    at: '',
    durable: true,
  },
  started('flaky', -1, 3),
  output('flaky', 'connected\n'),
  finished('flaky', { attempts: 3 }, 9512),
  finished('optional', { status: 'skipped', reason: 'if: false was false', attempts: 0 }, 0),
  started('each', -1, 0, 'for_each'),
  { type: 'step-items', ...run, stepId: 'each', item: -1, count: 3 },
  started('each', 0),
  output('each', 'a\n', 'stdout', 0),
  finished('each', {}, 12, 0),
  { type: 'cache-hit', ...run, stepId: 'each', item: 1, key: 'k' },
  finished('each', { reason: 'cache hit' }, 1, 1),
  started('each', 2),
  output('each', '\x1b[32mc\x1b[0m\n', 'stdout', 2),
  finished('each', {}, 15, 2),
  finished('each', { attempts: 0 }, 40, -1, 'for_each'),
  started('checks', -1, 0, 'parallel'),
  started('lint'),
  started('unit'),
  started('e2e'),
  output('lint', 'checked <&]]>"\' \x1b[1;31mred\x1b[0m bell\x01 done\n'),
  finished('lint', {}, 800),
  output('unit', 'running 12 tests\n'),
  output('unit', 'expected 2 < 3 & got "4"\n', 'stderr'),
  output('unit', 'FAIL math.test.ts\n'),
  finished('unit', { status: 'failed', error: { class: 'exit:1', message: 'exited with code 1' } }, 2345),
  finished('e2e', { status: 'cancelled', error: { class: 'cancelled', message: "cancelled because 'unit' failed" } }, 120),
  finished('checks', { status: 'failed', error: { class: 'exit:1', message: 'exited with code 1' }, attempts: 0 }, 2400, -1, 'parallel'),
  started('notify'),
  output('notify', 'posted\n'),
  finished('notify', {}, 310),
  {
    type: 'run-finished',
    ...run,
    status: 'failed',
    durationMs: 13_021,
    error: { class: 'exit:1', message: "step 'checks': exited with code 1" },
    outputs: undefined,
    at: '',
  },
];

async function report(events: FlowEvent[], ctx?: ReportContext): Promise<{ file: string; xml: string }> {
  const file = join(tempDir('flow-junit-out-'), 'reports', 'nested', 'junit.xml');
  const reporter = junitReporter(ctx ?? (await context()), file);
  for (const e of events) reporter.listener(e);
  await reporter.close();
  return { file, xml: readFileSync(file, 'utf8') };
}

describe('junitReporter', () => {
  it('writes one testcase per step, one suite per group, matching the golden file and valid against junit-4.xsd', async () => {
    const { file, xml } = await report(EVENTS);
    expectGolden('junit-basic.xml', xml);
    expect(schemaErrors(file)).toBe('');
    // The colours are gone and the control character dropped; the markup characters survive as text.
    expect(xml).not.toMatch(/[\x01\x1b]/);
    expect(xml).toContain('checked &lt;&amp;]]&gt;"\' red bell done');
    // Nothing is left beside the report: the temporary file was renamed over it.
    expect(readdirSync(join(file, '..'))).toEqual(['junit.xml']);
  });

  it('is checked by a validation that rejects what junit-4.xsd forbids', () => {
    const file = join(tempDir('flow-junit-bad-'), 'bad.xml');
    writeFileSync(file, '<testsuites><testsuite name="s" tests="1"><testcase classname="c"/></testsuite></testsuites>\n');
    expect(schemaErrors(file)).toMatch(/attribute 'name' is required/);
  });

  it('writes nothing when the run never started', async () => {
    const file = join(tempDir('flow-junit-none-'), 'junit.xml');
    await junitReporter(await context(), file).close();
    expect(existsSync(file)).toBe(false);
  });

  it('puts a fallback after the step it stood in for, and names nested groups by their path', async () => {
    const ctx = await context(`name: ship
steps:
  - id: build
    steps:
      - id: tests
        parallel:
          steps:
            - { id: fast, type: shell, config: { run: "true" } }
            - { id: slow, type: shell, config: { run: "true" } }
      - id: fetch
        type: shell
        on_error: { fallback: offline }
        config: { run: "false" }
  - id: extras
    if: false
    steps:
      - { id: docs, type: shell, config: { run: "true" } }
fallbacks:
  - { id: offline, name: Use the mirror, type: shell, config: { run: "true" } }
`);
    const events: FlowEvent[] = [
      { type: 'run-started', run: aRun({ workflowName: 'ship' }), resumed: true },
      { type: 'step-restored', ...run, stepId: 'tests', item: -1, result: aResult() },
      started('fetch'),
      finished('fetch', { status: 'failed', error: { class: 'exit:1', message: 'exited with code 1' } }, 5),
      started('fetch.offline'),
      finished('fetch.offline', {}, 7),
      finished('fetch', { reason: "recovered by fallback 'offline' after: exited with code 1", attempts: 1 }, 12),
      finished('extras', { status: 'skipped', reason: 'if: false was false', attempts: 0 }, 0, -1, 'sequence'),
      { type: 'run-finished', ...run, status: 'succeeded', durationMs: 30, error: undefined, outputs: {}, at: '' },
    ];
    const { file, xml } = await report(events, ctx);
    expect(schemaErrors(file)).toBe('');
    const suites = [...xml.matchAll(/<testsuite name="([^"]*)"[\s\S]*?<\/testsuite>/g)].map((m) => ({
      name: m[1],
      cases: [...m[0].matchAll(/<testcase name="([^"]*)" classname="([^"]*)"/g)].map((c) => `${c[2]} ${c[1]}`),
    }));
    expect(suites).toEqual([
      { name: 'build', cases: ['ship.build fetch', 'ship.build fetch.offline (Use the mirror)'] },
      { name: 'build/tests', cases: ['ship.build/tests fast', 'ship.build/tests slow'] },
      { name: 'extras', cases: ['ship.extras docs'] },
    ]);
    expect(xml).toContain("restored: its group 'tests' succeeded in an earlier attempt of this run");
    expect(xml).toContain("<system-out>recovered by fallback 'offline' after: exited with code 1</system-out>");
    expect(xml).toContain("<skipped>not run: its group 'extras' was skipped (if: false was false)</skipped>");
    expect(xml).not.toMatch(/<(failure|error)/);
  });

  it(`lists the first ${ITEMS_LISTED} items of a for_each one by one and sums up the rest in one testcase`, async () => {
    const total = ITEMS_LISTED + 250;
    const events: FlowEvent[] = [
      { type: 'run-started', run: aRun({ workflowName: 'demo' }), resumed: false },
      started('each', -1, 0, 'for_each'),
      { type: 'step-items', ...run, stepId: 'each', item: -1, count: total },
    ];
    // Item 1100 fails and stops the for_each: the items after it never start.
    for (let i = 0; i <= 1100; i++) {
      events.push(started('each', i));
      const failed = i === 1100;
      events.push(finished('each', failed ? { status: 'failed', error: { class: 'exit:2', message: 'bad item' } } : {}, 2, i));
    }
    const { file, xml } = await report(events);
    expect(schemaErrors(file)).toBe('');
    const names = [...xml.matchAll(/<testcase name="(each[^"]*)"/g)].map((m) => m[1]);
    expect(names).toHaveLength(ITEMS_LISTED + 1);
    expect(names.at(-1)).toBe(`each[${ITEMS_LISTED}..${total - 1}]`);
    expect(xml).toContain(`<failure type="failed" message="1 of items ${ITEMS_LISTED}..${total - 1} failed">failed: items 1100</failure>`);
    expect(xml).toContain(
      '250 items summed up in this testcase (a report lists 1000 items one by one): 100 succeeded, 1 failed, 149 not started',
    );
  });
});
