import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/model/errors.js';
import { FLOW_BIN, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { runIdOf } from '../helpers/state.js';

// Every exit code of the README's table, produced end to end by bin/flow.js, each with one clear message.

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

function workspace(yaml: string): string {
  const dir = tempDir('flow-exit-');
  writeFileSync(join(dir, 'w.yaml'), yaml);
  return dir;
}

const OK = 'steps:\n  - { id: a, type: shell, config: { run: "echo ok" } }\n';
const SLEEP = 'steps:\n  - { id: wait, type: shell, config: { run: "sleep 30" } }\n';

/** Starts flow and, once its step runs, does `then`; resolves with the exit code and stderr. */
function whileRunning(
  dir: string,
  then: (pid: number) => void | Promise<void>,
  started = /\[wait\] started/,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: '' },
  });
  let stderr = '';
  let acted = false;
  child.stdout.resume();
  child.stderr.on('data', (d) => {
    stderr += d;
    if (!acted && started.test(stderr)) {
      acted = true;
      void then(child.pid!);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);

describe('exit codes', () => {
  it('the README’s table lists exactly the codes flow uses', () => {
    const table = readme.slice(readme.indexOf('### Exit codes'), readme.indexOf('### Diagnostics'));
    const listed = [...table.matchAll(/^\| ([\d /]+) \|/gm)].flatMap((m) => m[1]!.split('/').map((c) => Number(c.trim())));
    expect(listed.sort((a, b) => a - b)).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });

  it('0: the run succeeded', () => {
    expect(flow(['run', 'w.yaml'], workspace(OK)).code).toBe(EXIT.ok);
  });

  it('1: a step failed', () => {
    const r = flow(['run', 'w.yaml'], workspace('steps:\n  - { id: a, type: shell, config: { run: "exit 4" } }\n'));
    expect(r.code).toBe(EXIT.failed);
    expect(r.stderr).toMatch(/\[a\] failed in \d+ms: exit:4/);
  });

  it('2: an invalid workflow (at its file:line:col), a bad flag, an unknown run', () => {
    const dir = workspace('steps:\n  - { id: a, type: shel, config: { run: "echo" } }\n');
    const invalid = flow(['run', 'w.yaml'], dir);
    expect(invalid.code).toBe(EXIT.invalid);
    expect(invalid.stderr).toMatch(/w\.yaml:2:\d+/);
    const flag = flow(['run', 'w.yaml', '--max-concurrency', '0'], dir);
    expect(flag.code).toBe(EXIT.invalid);
    expect(flag.stderr).toContain('--max-concurrency must be a whole number of at least 1');
    const junit = flow(['run', 'w.yaml', '--junit', 'w.yaml/report.xml'], workspace(OK));
    expect(junit.code).toBe(EXIT.invalid);
    expect(junit.stderr).toMatch(/^flow: cannot write the report '.*w\.yaml\/report\.xml'/);
    const unknown = flow(['resume', 'nosuchrun'], dir);
    expect(unknown.code).toBe(EXIT.invalid);
    for (const r of [invalid, flag, junit, unknown]) noStack(r.stderr);
  });

  it('70: a bug in flow is reported as one, without a stack, and the run record is kept for a resume', () => {
    const dir = workspace(OK);
    const r = flow(['run', 'w.yaml'], dir, { FLOW_FAILPOINT: 'in-run-finish:throw' });
    expect(r.code).toBe(EXIT.internal);
    expect(r.stderr).toContain('flow: internal error (this is a bug in flow): failpoint in-run-finish reached');
    noStack(r.stderr);
    const id = runIdOf(r.stderr);
    const resumed = flow(['resume', id], dir);
    expect(resumed.code, resumed.stderr).toBe(EXIT.ok);
  });

  it('75: the run is driven by another live process', async () => {
    const dir = workspace(SLEEP);
    let second: ReturnType<typeof flow> | undefined;
    const first = await whileRunning(dir, (pid) => {
      second = flow(['resume', latestRun(dir)], dir);
      process.kill(pid, 'SIGTERM');
    });
    expect(second?.code).toBe(EXIT.busy);
    expect(second?.stderr).toMatch(/is being driven by process \d+/);
    expect(first.code).toBe(EXIT.terminated);
  });

  it.each([
    ['SIGINT', EXIT.interrupted],
    ['SIGTERM', EXIT.terminated],
    ['SIGHUP', EXIT.hangup],
  ] as const)('%s: interrupted, and resumable', async (signal, code) => {
    const dir = workspace(SLEEP);
    const r = await whileRunning(dir, (pid) => void process.kill(pid, signal));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(/to continue it: flow resume \w+/);
  });

  it('SIGINT stops a long stretch of in-process steps at once, not when they are all done', async () => {
    // 300,000 transform items take tens of seconds; none of them waits for anything outside the process.
    const each = 'steps:\n  - { id: each, type: transform, for_each: "${{ [1..300000] }}", config: { value: "${{ item }}" } }\n';
    const dir = workspace(each);
    let done = false;
    const r = await whileRunning(
      dir,
      (pid) => {
        setTimeout(() => process.kill(pid, 'SIGINT'), 200);
        // Should the signal go unheard, the run is not left to run through the rest of the suite.
        setTimeout(() => done || process.kill(pid, 'SIGKILL'), 15_000).unref();
      },
      /\[each\[0\]\] started/,
    );
    done = true;
    expect(r.code).toBe(EXIT.interrupted);
    expect(r.stderr).toMatch(/to continue it: flow resume \w+/);
    const finished = [...r.stderr.matchAll(/\[each\[(\d+)\]\] succeeded/g)].length;
    expect(finished).toBeGreaterThan(0);
    expect(finished).toBeLessThan(300_000);
  });
});

function latestRun(dir: string): string {
  const r = flow(['runs', '--json'], dir);
  return (JSON.parse(r.stdout) as { id: string }[])[0]!.id;
}
