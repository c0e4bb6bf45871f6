import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLOW_BIN, flow } from '../helpers/cli.js';

const SECRET = 'hunter2-very-secret';

const OK = `name: ok
secrets: [TOKEN]
steps:
  - { id: greet, type: shell, config: { run: "echo token=$TOKEN; echo careful >&2" }, env: { TOKEN: "\${{ secrets.TOKEN }}" } }
  - { id: slow_sum, type: shell, config: { run: "echo 42" }, cache: true }
`;

const BAD = `name: bad
steps:
  - id: each
    type: shell
    for_each: [1, 2, 3]
    retry: { max_attempts: 2, initial_delay: 1ms }
    config: { run: "echo item \${{ item }} try $FLOW_ATTEMPT; [ \${{ item }} != 2 ]" }
  - { id: after, type: shell, config: { run: "echo never" } }
`;

const newDir = () => mkdtempSync(join(tmpdir(), 'flow-history-e2e-'));
const runIdOf = (stderr: string) => /flow: run (\w+) started/.exec(stderr)?.[1] ?? '';
const json = <T>(text: string) => JSON.parse(text) as T;

interface RunJson {
  id: string;
  status: string;
  workflow: string;
  started_at: string;
  ended_at: string | null;
  attempt: number;
}

describe('history commands without a state file', () => {
  it('say there are no runs, exit 0 and create nothing; show and logs of an unknown run exit 2 with a hint', () => {
    const dir = newDir();
    const runs = flow(['runs'], dir);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/^no runs recorded/);
    expect(flow(['runs', '--json'], dir).stdout.trim()).toBe('[]');
    expect(flow(['cache', 'clear'], dir).stdout.trim()).toBe('removed 0 cache entries');
    expect(flow(['runs', 'prune', '--older-than', '30d'], dir).stdout).toMatch(/^removed 0 runs/);
    for (const args of [
      ['show', '01nosuchrun'],
      ['logs', '01nosuchrun'],
    ]) {
      const r = flow(args, dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^flow: no run '01nosuchrun' in .*state\.db\n {2}hint: flow runs lists the recorded runs/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('flow runs, show, logs and cache clear over recorded runs', () => {
  const dir = newDir();
  const env = { TOKEN: SECRET };
  let ok1 = '';
  let ok2 = '';
  let bad = '';

  beforeAll(() => {
    writeFileSync(join(dir, 'ok.yaml'), OK);
    writeFileSync(join(dir, 'bad.yaml'), BAD);
    const first = flow(['run', 'ok.yaml'], dir, env);
    expect(first.code).toBe(0);
    ok1 = runIdOf(first.stderr);
    const failed = flow(['run', 'bad.yaml'], dir, env);
    expect(failed.code).toBe(1);
    bad = runIdOf(failed.stderr);
    const cached = flow(['run', 'ok.yaml'], dir, env);
    expect(cached.stderr).toContain('[slow_sum] cache hit');
    ok2 = runIdOf(cached.stderr);
  });

  it('flow runs: an aligned table, newest first', () => {
    const r = flow(['runs'], dir);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+WORKFLOW\s+STARTED\s+DURATION\s+ATTEMPT$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      [ok2, 'succeeded', 'ok'],
      [bad, 'failed', 'bad'],
      [ok1, 'succeeded', 'ok'],
    ]);
    const status = lines[0]!.indexOf('STATUS');
    for (const line of lines.slice(1)) expect(line.slice(status)).toMatch(/^(succeeded|failed) /);
  });

  it('flow runs --json: the documented fields; --status, --workflow and --limit filter', () => {
    const all = json<RunJson[]>(flow(['runs', '--json'], dir).stdout);
    expect(all.map((r) => r.id)).toEqual([ok2, bad, ok1]);
    expect(all[1]).toMatchObject({ id: bad, status: 'failed', workflow: 'bad', attempt: 1 });
    expect(Object.keys(all[1]!)).toEqual(['id', 'status', 'workflow', 'path', 'started_at', 'ended_at', 'duration_ms', 'attempt', 'ai']);
    expect(Date.parse(all[1]!.ended_at!)).toBeGreaterThanOrEqual(Date.parse(all[1]!.started_at));
    const ids = (...args: string[]) => json<RunJson[]>(flow(['runs', '--json', ...args], dir).stdout).map((r) => r.id);
    expect(ids('--status', 'failed')).toEqual([bad]);
    expect(ids('--workflow', 'ok')).toEqual([ok2, ok1]);
    expect(ids('--limit', '2')).toEqual([ok2, bad]);
    const limited = flow(['runs', '--limit', '1'], dir);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(limited.stderr).toContain('--limit N lists more');
    expect(flow(['runs', '--limit', '0'], dir).code).toBe(2);
    expect(flow(['runs', '--status', 'done'], dir).code).toBe(2);
  });

  it('flow show: the run and each step; a cached step is marked, in text and in JSON', () => {
    const text = flow(['show', ok2], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^run ${ok2}: succeeded\\n {2}workflow\\s+ok \\(.*ok\\.yaml\\)`));
    expect(text.stdout).toMatch(/^greet\s+succeeded\s+1\s+\S+\s+\{"exit_code":0,"stdout":"token=\*\*\*\\n"/m);
    expect(text.stdout).toMatch(/^slow_sum\s+succeeded \(cached\)\s/m);
    expect(flow(['show', ok1], dir).stdout).not.toContain('cached');
    const detail = json<{ id: string; steps: { id: string; cached: boolean; status: string; attempts: number }[] }>(
      flow(['show', ok2, '--json'], dir).stdout,
    );
    expect(detail).toMatchObject({ id: ok2, status: 'succeeded', workflow: 'ok', attempt: 1, ended_at: expect.any(String) });
    expect(detail.steps.map((s) => [s.id, s.status, s.cached])).toEqual([
      ['greet', 'succeeded', false],
      ['slow_sum', 'succeeded', true],
    ]);
    expect(Object.keys(detail.steps[0]!)).toEqual(expect.arrayContaining(['id', 'status', 'attempts', 'started_at', 'ended_at']));
  });

  it('flow show: a for_each as counts of its items, with the failed item and its error', () => {
    const text = flow(['show', bad], dir).stdout;
    expect(text).toMatch(/^each\s+failed\s+-\s+\S+\s+2 items: 1 succeeded, 1 failed$/m);
    expect(text).toMatch(/^ {2}each\[1\]\s+failed\s+2\s+\S+\s+exit:1: /m);
    const detail = json<{ steps: { items: Record<string, number>; failed_items: { index: number; attempts: number }[] }[] }>(
      flow(['show', bad, '--json'], dir).stdout,
    );
    expect(detail.steps[0]!.items).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    expect(detail.steps[0]!.failed_items).toMatchObject([{ index: 1, attempts: 2 }]);
  });

  it('flow logs: every step in order, prefixed as live, stderr marked, secrets masked', () => {
    const r = flow(['logs', ok1], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[greet] | token=***\n[greet] stderr | careful\n[slow_sum] | 42\n');
    expect(r.stdout).not.toContain(SECRET);
    // The second run took slow_sum from the cache: it wrote nothing.
    expect(flow(['logs', ok2], dir).stdout).not.toContain('[slow_sum]');
  });

  it('flow logs STEP: only that step, each attempt headed when there are several; --attempt N only that one', () => {
    expect(flow(['logs', bad, 'each'], dir).stdout).toBe(
      [
        '[each[0]] | item 1 try 1',
        '[each[1]] attempt 1',
        '[each[1]] | item 2 try 1',
        '[each[1]] attempt 2',
        '[each[1]] | item 2 try 2',
        '',
      ].join('\n'),
    );
    expect(flow(['logs', bad, 'each[1]', '--attempt', '2'], dir).stdout).toBe('[each[1]] | item 2 try 2\n');
    expect(flow(['logs', ok1, 'slow_sum'], dir).stdout).toBe('[slow_sum] | 42\n');
    const notRun = flow(['logs', bad, 'after'], dir);
    expect(notRun).toMatchObject({ code: 0, stdout: '' });
    expect(notRun.stderr).toMatch(/step 'after' has not run/);
    const unknown = flow(['logs', ok1, 'nope'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^flow: run \w+ has no step 'nope'\n {2}hint: flow show \w+ lists its steps\n$/);
  });

  it('flow cache clear: empties the step cache, so the next run computes the step again', () => {
    const cleared = flow(['cache', 'clear'], dir);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout.trim()).toBe('removed 1 cache entry');
    const again = flow(['run', 'ok.yaml'], dir, env);
    expect(again.stderr).not.toContain('cache hit');
    expect(flow(['logs', runIdOf(again.stderr), 'slow_sum'], dir).stdout).toBe('[slow_sum] | 42\n');
  });
});

describe('flow runs prune', () => {
  it('deletes old finished runs with their child runs, keeps the newest N, and shrinks the file', () => {
    const dir = newDir();
    writeFileSync(join(dir, 'child.yaml'), 'name: child\nsteps:\n  - { id: lots, type: shell, config: { run: "seq 1 20000" } }\n');
    writeFileSync(join(dir, 'w.yaml'), 'name: big\nsteps:\n  - { id: sub, type: workflow, config: { path: child.yaml } }\n');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(runIdOf(flow(['run', 'w.yaml', '--state', 'h.db'], dir).stderr));
    const state = join(dir, 'h.db');
    const db = new Database(state);
    // Three of the four ended 40 days ago (their child runs too).
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    for (const id of ids.slice(0, 3)) db.prepare('UPDATE runs SET ended_at = ? WHERE id = ? OR parent_run_id = ?').run(old, id, id);
    db.close();
    const size = () => statSync(state).size + (existsSync(`${state}-wal`) ? statSync(`${state}-wal`).size : 0);
    const before = size();

    const r = flow(['runs', 'prune', '--older-than', '30d', '--keep', '2', '--state', 'h.db'], dir);
    expect(r.code).toBe(0);
    const reclaimed = Number(/^removed 2 runs; reclaimed (\d+) bytes$/m.exec(r.stdout)?.[1]);
    expect(reclaimed).toBeGreaterThan(100_000);
    expect(size()).toBeLessThan(before - 100_000);
    const left = json<RunJson[]>(flow(['runs', '--json', '--state', 'h.db'], dir).stdout).map((x) => x.id);
    expect(left).toEqual([ids[3], ids[2]]);
    const check = new Database(state, { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 4 });
    expect(check.prepare('SELECT count(*) AS n FROM logs WHERE run_id NOT IN (SELECT id FROM runs)').get()).toEqual({ n: 0 });
    check.close();

    expect(flow(['runs', 'prune', '--older-than', 'soon', '--state', 'h.db'], dir).code).toBe(2);
    expect(flow(['runs', 'prune', '--state', 'h.db'], dir).code).toBe(2);
    expect(flow(['runs', '--state', 'h.db', 'prune', '--older-than', '1ms'], dir).stdout).toMatch(/^removed 2 runs/);
  });
});

describe('a run whose driver died', () => {
  it('is listed as interrupted, and shows the step it was running as interrupted', async () => {
    const dir = newDir();
    writeFileSync(
      join(dir, 'w.yaml'),
      'name: long\nsteps:\n  - { id: wait, type: shell, config: { run: "echo $$ > step.pid; touch started; exec sleep 30" } }\n',
    );
    const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await expect.poll(() => existsSync(join(dir, 'started')), { timeout: 10_000 }).toBe(true);
    expect(json<RunJson[]>(flow(['runs', '--json'], dir).stdout)[0]?.status).toBe('running');
    // A crash: no handler runs, the run stays recorded as running.
    process.kill(child.pid!, 'SIGKILL');
    await exited;
    const runs = json<RunJson[]>(flow(['runs', '--json'], dir).stdout);
    expect(runs.map((r) => r.status)).toEqual(['interrupted']);
    expect(flow(['runs', '--status', 'interrupted', '--json'], dir).stdout).toContain(runs[0]!.id);
    expect(flow(['show', runs[0]!.id], dir).stdout).toMatch(/^wait\s+interrupted\s+1\s+-/m);
    const db = new Database(join(dir, '.flow', 'state.db'), { readonly: true });
    expect(db.prepare('SELECT status FROM runs').get()).toEqual({ status: 'running' });
    db.close();
    // The step's process group outlived its driver, as after any crash.
    process.kill(-Number(readFileSync(join(dir, 'step.pid'), 'utf8')), 'SIGKILL');
  });
});

describe('flow logs --follow', () => {
  it('prints a live run’s output from another process while the step runs, its retries headed, and ends with the run', async () => {
    const dir = newDir();
    writeFileSync(
      join(dir, 'w.yaml'),
      `name: follow
steps:
  - id: talk
    type: shell
    retry: { max_attempts: 2, initial_delay: 1ms }
    config: { run: "echo line one; while [ ! -f go ]; do sleep 0.05; done; echo line two; [ $FLOW_ATTEMPT = 2 ]" }
  - { id: after, type: shell, config: { run: "echo done" } }
`,
    );
    const driver = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], { cwd: dir, env: { ...process.env, CI: 'true' } });
    let stderr = '';
    driver.stderr.on('data', (d) => (stderr += d));
    const ended = new Promise<number | null>((resolve) => driver.on('close', resolve));
    const started = Date.now();
    while (!/\[talk\] \| line one/.test(stderr) && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 20));
    const follower = spawn(process.execPath, [FLOW_BIN, 'logs', runIdOf(stderr), '--follow'], { cwd: dir });
    let out = '';
    follower.stdout.on('data', (d) => (out += d));
    const followed = new Promise<number | null>((resolve) => follower.on('close', resolve));
    // The step is still waiting for `go`: its first line can only have come from the file, committed while it runs.
    while (!out.includes('[talk] | line one') && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 20));
    expect(out).toBe('[talk] | line one\n');
    writeFileSync(join(dir, 'go'), '');
    expect(await ended).toBe(0);
    expect(await followed).toBe(0);
    expect(out).toBe(
      ['[talk] | line one', '[talk] | line two', '[talk] attempt 2', '[talk] | line one', '[talk] | line two', '[after] | done', ''].join(
        '\n',
      ),
    );
  });
});
