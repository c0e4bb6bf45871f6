import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { FLOW_BIN, flow } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
const write = (name: string, text: string) => {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
};
const runsIn = (statePath: string) => {
  const db = new Database(statePath, { readonly: true });
  try {
    return db.prepare('SELECT id, status FROM runs ORDER BY started_at').all() as { id: string; status: string }[];
  } finally {
    db.close();
  }
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flow-run-e2e-'));
});

describe('flow run', () => {
  it('runs workflows/hello.yaml, shows the run, and records it in .flow/state.db (0600)', () => {
    const r = flow(['run', join(root, 'workflows', 'hello.yaml')], dir);
    expect(r.code).toBe(0);
    const runId = /flow: run (\w+) started/.exec(r.stderr)?.[1];
    expect(runId).toBeDefined();
    expect(r.stderr).toContain('[greet] | hello, world');
    expect(r.stderr).toMatch(new RegExp(`flow: run ${runId} succeeded in `));
    expect(JSON.parse(r.stdout)).toEqual({ greeting: 'HELLO, WORLD' });
    const state = join(dir, '.flow', 'state.db');
    expect(statSync(state).mode & 0o777).toBe(0o600);
    expect(runsIn(state)).toEqual([{ id: runId, status: 'succeeded' }]);
  });

  it('takes inputs from --input and --inputs, typed', () => {
    write(
      'w.yaml',
      'inputs:\n  n: { type: integer }\n  who: { type: string }\nsteps:\n  - { id: t, type: transform, config: { value: "${{ inputs.who }}:${{ inputs.n + 1 }}" } }\noutputs: { v: "${{ steps.t.output }}" }\n',
    );
    write('in.json', '{"n": 41, "who": "file"}');
    const r = flow(['run', 'w.yaml', '--inputs', 'in.json', '--input', 'who=flag'], dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ v: 'flag:42' });
  });

  it('exits 1 when the workflow fails, with the failing step named', () => {
    write('w.yaml', 'steps:\n  - { id: bad, type: shell, config: { run: "exit 3" } }\n');
    const r = flow(['run', 'w.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/flow: run \w+ failed in .*: step 'bad': 'exit 3' exited with code 3/);
  });

  it.each([
    ['an invalid workflow never starts', 'steps:\n  - { id: a, type: shel }\n', [], /unknown step type 'shel'[\s\S]*w.yaml is not valid/],
    [
      'a bad input is named',
      'inputs:\n  n: { type: integer }\nsteps:\n  - { id: a, type: transform, config: { value: 1 } }\n',
      ['--input', 'n=abc'],
      /^flow: input 'n' must be an integer, got "abc"$/m,
    ],
    [
      'an undeclared input is refused',
      'steps:\n  - { id: a, type: transform, config: { value: 1 } }\n',
      ['--input', 'x=1'],
      /^flow: unknown input 'x'$/m,
    ],
    [
      'a malformed --input',
      'steps:\n  - { id: a, type: transform, config: { value: 1 } }\n',
      ['--input', 'novalue'],
      /^flow: --input 'novalue' is not name=value$/m,
    ],
  ])('%s: exit 2, nothing recorded', (_name, yaml, args, message) => {
    write('w.yaml', yaml);
    const r = flow(['run', 'w.yaml', ...args], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, '.flow'))).toBe(false);
  });

  it('--dry-run prints the plan and has no side effects at all', () => {
    write(
      'w.yaml',
      'inputs:\n  port: { type: integer }\nsteps:\n  - { id: make, type: shell, config: { run: "touch made" } }\n  - id: g\n    parallel:\n      steps:\n        - { id: put, type: storage, config: { storage_type: local, path: out.txt, content: "${{ steps.make.output.stdout }}" } }\n        - { id: get, type: http, config: { url: "http://127.0.0.1:${{ inputs.port }}/" } }\n',
    );
    const r = flow(['run', 'w.yaml', '--dry-run', '--input', 'port=9'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('url: "http://127.0.0.1:9/"');
    expect(r.stdout).toContain('content: "${{ steps.make.output.stdout }}"');
    expect(r.stdout).toContain('- make: shell');
    expect(r.stdout).toContain('- g: parallel');
    expect(r.stdout).toContain('  - put: storage');
    expect(readdirSync(dir).sort()).toEqual(['w.yaml']);
  });

  it('--state moves the state file', () => {
    write('w.yaml', 'steps:\n  - { id: a, type: transform, config: { value: 1 } }\n');
    expect(flow(['run', 'w.yaml', '--state', 'elsewhere/s.db'], dir).code).toBe(0);
    expect(runsIn(join(dir, 'elsewhere', 's.db'))).toHaveLength(1);
    expect(existsSync(join(dir, '.flow'))).toBe(false);
  });

  // Shell steps start through the launcher, from a run's first; directly (spawn) with FLOW_PROCESS_LAUNCHER=off.
  it.each([
    ['SIGINT', 130, 'direct'],
    ['SIGTERM', 143, 'direct'],
    ['SIGINT', 130, 'launcher'],
    ['SIGTERM', 143, 'launcher'],
    ['SIGHUP', 129, 'direct'],
  ] as const)(
    '%s stops the run: exit %i, the step process tree killed (started through %s), the run recorded as interrupted',
    async (signal, code, path) => {
      write(
        'w.yaml',
        `steps:\n  - id: long\n    type: shell\n    config: { run: "echo $PPID > parent.pid; sleep 60 & echo $! > child.pid; wait" }\n  - { id: after, type: shell, config: { run: "touch after" } }\n`,
      );
      const env = path === 'direct' ? { ...process.env, FLOW_PROCESS_LAUNCHER: 'off' } : process.env;
      const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // The whole line, not the file: the shell creates it before it writes the pid, and an empty file reads as pid 0
      // (this test's own process group, always alive).
      const written = (name: string) => existsSync(join(dir, name)) && /^\d+\n$/.test(readFileSync(join(dir, name), 'utf8'));
      await expect.poll(() => written('parent.pid') && written('child.pid'), { timeout: 10_000 }).toBe(true);
      const parent = Number(readFileSync(join(dir, 'parent.pid'), 'utf8'));
      if (path === 'launcher') expect(readFileSync(`/proc/${parent}/cmdline`, 'utf8')).toContain('flow-launcher');
      else expect(parent).toBe(child.pid);
      child.kill(signal);
      expect(await exited).toBe(code);
      const pid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
      await expect
        .poll(
          () => {
            try {
              process.kill(pid, 0);
              return 'alive';
            } catch {
              return 'gone';
            }
          },
          { timeout: 5000 },
        )
        .toBe('gone');
      expect(existsSync(join(dir, 'after'))).toBe(false);
      expect(runsIn(join(dir, '.flow', 'state.db'))[0]?.status).toBe('interrupted');
      expect(stderr).toMatch(/\[long\] interrupted/);
    },
  );

  // The trap's clean-up outlasts the default 2 s between TERM and KILL: it is only finished with a longer grace.
  it('FLOW_KILL_GRACE gives a stopped step longer to clean up; a bad value is refused before any run starts', async () => {
    write(
      'w.yaml',
      `steps:\n  - id: long\n    type: shell\n    config: { run: "trap 'sleep 3; touch cleaned; exit 1' TERM; touch started; while :; do sleep 0.05; done" }\n`,
    );
    const bad = flow(['run', 'w.yaml'], dir, { FLOW_KILL_GRACE: 'soon' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^flow: FLOW_KILL_GRACE must be a duration, got 'soon'\n {2}hint: for example 2s/);
    expect(existsSync(join(dir, 'started'))).toBe(false);
    const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], {
      cwd: dir,
      env: { ...process.env, FLOW_KILL_GRACE: '20s' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await expect.poll(() => existsSync(join(dir, 'started')), { timeout: 10_000 }).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(existsSync(join(dir, 'cleaned'))).toBe(true);
    const [run] = runsIn(join(dir, '.flow', 'state.db'));
    expect(run?.status).toBe('interrupted');
    // A resume refuses it before taking the run over: the run stays as it was.
    const badResume = flow(['resume', run!.id], dir, { FLOW_KILL_GRACE: '-1s' });
    expect(badResume.code).toBe(2);
    expect(badResume.stderr).toMatch(/^flow: FLOW_KILL_GRACE must be a duration, got '-1s'/);
    expect(runsIn(join(dir, '.flow', 'state.db'))).toEqual([run]);
  });
});
