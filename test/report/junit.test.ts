import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { FlowEvent } from '../../src/model/events.js';
import { ITEMS_LISTED, junitReporter } from '../../src/report/junit.js';
import { noColour } from '../../src/report/palette.js';
import type { ReportContext } from '../../src/report/reporter.js';
import { stepIndex } from '../../src/report/step-index.js';
import { tempDir } from '../helpers/engine.js';
import {
  cacheHit,
  runFinished,
  runStarted,
  stepError,
  stepFinished,
  stepItems,
  stepOutput,
  stepRestored,
  stepRetrying,
  stepStarted,
} from '../helpers/events.js';
import { expectGolden } from '../helpers/golden.js';

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

// A failed run of WORKFLOW: every way a step can end, and output a report must clean.
const EVENTS: FlowEvent[] = [
  runStarted({ workflowName: 'demo' }, { resumed: true }),
  stepRestored('setup'),
  stepStarted('flaky'),
  stepOutput('flaky', 'connecting\n'),
  stepRetrying('flaky', 1, 1500, stepError('exited with code 1')),
  stepStarted('flaky', { attempt: 2 }),
  stepRetrying('flaky', 2, 3000, stepError('timed out after 5000 ms', 'timeout')),
  stepStarted('flaky', { attempt: 3 }),
  stepOutput('flaky', 'connected\n'),
  stepFinished('flaky', 9512, { attempts: 3 }),
  stepFinished('optional', 0, { status: 'skipped', reason: 'if: false was false', attempts: 0 }),
  stepStarted('each', { kind: 'for_each' }),
  stepItems('each', 3),
  stepStarted('each', { item: 0 }),
  stepOutput('each', 'a\n', { item: 0 }),
  stepFinished('each', 12, {}, { item: 0 }),
  cacheHit('each', 'k', { item: 1 }),
  stepFinished('each', 1, { reason: 'cache hit' }, { item: 1 }),
  stepStarted('each', { item: 2 }),
  stepOutput('each', '\x1b[32mc\x1b[0m\n', { item: 2 }),
  stepFinished('each', 15, {}, { item: 2 }),
  stepFinished('each', 40, { attempts: 0 }, { kind: 'for_each' }),
  stepStarted('checks', { kind: 'parallel' }),
  stepStarted('lint'),
  stepStarted('unit'),
  stepStarted('e2e'),
  stepOutput('lint', 'checked <&]]>"\' \x1b[1;31mred\x1b[0m bell\x01 done\n'),
  stepFinished('lint', 800),
  stepOutput('unit', 'running 12 tests\n'),
  stepOutput('unit', 'expected 2 < 3 & got "4"\n', { stream: 'stderr' }),
  stepOutput('unit', 'FAIL math.test.ts\n'),
  stepFinished('unit', 2345, { status: 'failed', error: stepError('exited with code 1') }),
  stepFinished('e2e', 120, { status: 'cancelled', error: stepError("cancelled because 'unit' failed", 'cancelled') }),
  stepFinished('checks', 2400, { status: 'failed', error: stepError('exited with code 1'), attempts: 0 }, { kind: 'parallel' }),
  stepStarted('notify'),
  stepOutput('notify', 'posted\n'),
  stepFinished('notify', 310),
  runFinished('failed', 13_021, { error: stepError("step 'checks': exited with code 1") }),
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
      runStarted({ workflowName: 'ship' }, { resumed: true }),
      stepRestored('tests'),
      stepStarted('fetch'),
      stepFinished('fetch', 5, { status: 'failed', error: stepError('exited with code 1') }),
      stepStarted('fetch.offline'),
      stepFinished('fetch.offline', 7),
      stepFinished('fetch', 12, { reason: "recovered by fallback 'offline' after: exited with code 1", attempts: 1 }),
      stepFinished('extras', 0, { status: 'skipped', reason: 'if: false was false', attempts: 0 }, { kind: 'sequence' }),
      runFinished('succeeded', 30, { outputs: {} }),
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
    const events: FlowEvent[] = [runStarted({ workflowName: 'demo' }), stepStarted('each', { kind: 'for_each' }), stepItems('each', total)];
    // Item 1100 fails and stops the for_each: the items after it never start.
    for (let i = 0; i <= 1100; i++) {
      events.push(stepStarted('each', { item: i }));
      const failed = i === 1100;
      events.push(stepFinished('each', 2, failed ? { status: 'failed', error: stepError('bad item', 'exit:2') } : {}, { item: i }));
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
