import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretForms } from '../../src/engine/masking.js';
import { FLOW_BIN, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

// `flow run --junit FILE` as a CI runs it: the built CLI, real shell steps, the report checked by xmllint against
// Jenkins' junit-4.xsd.

const XSD = join(import.meta.dirname, '..', 'fixtures', 'junit-4.xsd');

/** xmllint's verdict on a file against Jenkins' junit-4.xsd: '' when valid, else what xmllint said. */
function schemaErrors(file: string): string {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint did not run (install libxml2-utils): ${r.error.message}`);
  return r.status === 0 ? '' : `xmllint exit ${r.status}: ${r.stderr}`;
}

const testcases = (xml: string) => [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
const caseBody = (xml: string, name: string) => testcases(xml).find((m) => m[1] === name)?.[3] ?? '';

function workflowIn(yaml: string): string {
  const dir = tempDir('flow-junit-e2e-');
  writeFileSync(join(dir, 'w.yaml'), yaml);
  return dir;
}

describe('flow run --junit', () => {
  it('writes a valid report of a failed run: one testcase per step, the failure on the step that failed', () => {
    const dir = workflowIn(`name: build
steps:
  - { id: compile, type: shell, config: { run: "echo compiled" } }
  - id: checks
    parallel:
      fail_fast: false
      steps:
        - { id: lint, type: shell, config: { run: "echo clean" } }
        - { id: unit, name: Unit tests, type: shell, config: { run: "echo '3 passed'; echo 'expected 1 got 2' >&2; exit 3" } }
  - { id: publish, type: shell, config: { run: "echo published" } }
`);
    const r = flow(['run', 'w.yaml', '--junit', 'out/report.xml'], dir);
    expect(r.code, r.stderr).toBe(1);
    const file = join(dir, 'out', 'report.xml');
    expect(schemaErrors(file)).toBe('');
    const xml = readFileSync(file, 'utf8');
    expect(testcases(xml).map((m) => m[1])).toEqual(['compile', 'publish', 'lint', 'unit (Unit tests)']);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(caseBody(xml, 'unit (Unit tests)')).toMatch(/<failure type="exit:3" message="[^"]*">3 passed\nexpected 1 got 2<\/failure>/);
    expect(caseBody(xml, 'publish')).toContain('<skipped>not run: the run stopped at a failure before it</skipped>');
    expect(xml).toContain('<testsuite name="checks" tests="2" failures="1" errors="0" skipped="0"');
  });

  it('writes a valid report when the run is interrupted: the step that was running is an error', async () => {
    const dir = workflowIn(`steps:
  - { id: warm, type: shell, config: { run: "echo ready" } }
  - { id: slow, type: shell, config: { run: "sleep 30" } }
  - { id: after, type: shell, config: { run: "true" } }
`);
    const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml', '--junit', 'out/report.xml'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await expect.poll(() => /\[slow\] started/.test(stderr), { timeout: 10_000 }).toBe(true);
    // The report is written when the run is over, not before.
    expect(existsSync(join(dir, 'out', 'report.xml'))).toBe(false);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    const file = join(dir, 'out', 'report.xml');
    expect(schemaErrors(file)).toBe('');
    const xml = readFileSync(file, 'utf8');
    expect(caseBody(xml, 'warm')).not.toMatch(/<(failure|error|skipped)/);
    expect(caseBody(xml, 'slow')).toMatch(/<error type="interrupted" message="[^"]*">interrupted: the run was stopped while it ran/);
    expect(caseBody(xml, 'after')).toContain('<skipped>not run: the run was interrupted before it</skipped>');
    expect(xml).toContain('<property name="flow.status" value="interrupted"/>');
  });

  it('keeps a secret a step prints out of the report', () => {
    const token = 'tok-3xample/value+';
    const dir = workflowIn(`secrets: [TOKEN]
steps:
  - id: leak
    type: shell
    config:
      run: |
        echo "token is $TOKEN"
        echo "again: $TOKEN" >&2
        exit 1
`);
    const r = flow(['run', 'w.yaml', '--junit', 'report.xml'], dir, { TOKEN: token });
    expect(r.code, r.stderr).toBe(1);
    const file = join(dir, 'report.xml');
    expect(schemaErrors(file)).toBe('');
    const xml = readFileSync(file, 'utf8');
    // The step really printed it, masked, into each place a report holds output.
    expect(caseBody(xml, 'leak')).toContain('<system-out>token is ***');
    expect(caseBody(xml, 'leak')).toContain('<system-err>again: ***');
    for (const form of secretForms(token)) expect(xml.includes(form), form).toBe(false);
  });

  it('a report that cannot be written at the end is said, and never hides how the run ended', () => {
    // The step makes the report's path a directory: the file is written when the run ends, and fails then.
    const failing = workflowIn('steps:\n  - { id: a, type: shell, config: { run: "mkdir -p rep/r.xml; exit 1" } }\n');
    const r = flow(['run', 'w.yaml', '--junit', 'rep/r.xml'], failing);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flow: cannot write the report '.*rep\/r\.xml'/m);
    // A run that succeeded without its report must not look green.
    const passing = workflowIn('steps:\n  - { id: a, type: shell, config: { run: "mkdir -p rep/r.xml" } }\n');
    expect(flow(['run', 'w.yaml', '--junit', 'rep/r.xml'], passing).code).toBe(2);
  });

  it('flow resume refuses a report file it cannot write before it takes the run over', () => {
    const dir = workflowIn('steps:\n  - { id: a, type: shell, config: { run: "test -f ok" } }\n');
    const first = flow(['run', 'w.yaml'], dir);
    const id = /run (\w+) started/.exec(first.stderr)![1]!;
    writeFileSync(join(dir, 'afile'), '');
    const r = flow(['resume', id, '--junit', 'afile/r.xml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('resuming run');
    const runs = JSON.parse(flow(['runs', '--json'], dir).stdout) as { id: string; status: string; attempt: number }[];
    expect(runs[0]).toMatchObject({ id, status: 'failed', attempt: 1 });
  });
});
