import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/state/lease.js';
import { FLOW_BIN, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { defaultState, query, runIdOf, update } from '../helpers/state.js';

let dir: string;
const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
const side = () => readFileSync(join(dir, 'side.log'), 'utf8').trim().split('\n');

beforeEach(() => {
  dir = tempDir('flow-owner-');
});

/** Starts `flow ARGS` without waiting; resolves with its exit code and stderr when it ends. */
function start(args: string[]): { pid: number; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [FLOW_BIN, ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { pid: child.pid!, done };
}

const running = (id: string) =>
  query<{ n: number }>(defaultState(dir), "SELECT count(*) AS n FROM attempts WHERE run_id = ? AND status = 'running'", id)[0]!.n;

// A run whose step `slow` fails until `fixed` exists, and then takes a while.
const SLOW =
  'steps:\n  - { id: slow, type: shell, config: { run: "test -f fixed && sleep 1.5; echo slow >> side.log; test -f fixed" } }\n  - { id: after, type: shell, config: { run: "echo after >> side.log" } }\n';

describe('one driver per run', () => {
  it('refuses a second resume of a run another live process drives (exit 75), and that one finishes', async () => {
    write('w.yaml', SLOW);
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    write('fixed', '');
    const first = start(['resume', id]);
    await expect.poll(() => running(id), { timeout: 10_000 }).toBe(1);
    const second = flow(['resume', id], dir);
    expect(second.code).toBe(75);
    expect(second.stderr).toContain(`run ${id} is being driven by process ${first.pid} on ${hostname()}`);
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(side()).toEqual(['slow', 'slow', 'after']);
  });

  it('takes over a run whose driver was killed, marking its running attempt interrupted', async () => {
    write('w.yaml', SLOW);
    write('fixed', '');
    const killed = start(['run', 'w.yaml']);
    const id = await runningRun();
    process.kill(killed.pid, 'SIGKILL');
    expect((await killed.done).signal).toBe('SIGKILL');
    // Still recorded as running: a crash writes nothing. flow resume sees the owner is gone.
    expect(query<{ status: string }>(defaultState(dir), 'SELECT status FROM runs WHERE id = ?', id)).toEqual([{ status: 'running' }]);
    const r = flow(['resume', id], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('1 step attempt(s) were running when the last driver stopped');
    expect(
      query<{ attempt: number; status: string }>(
        defaultState(dir),
        "SELECT attempt, status FROM attempts WHERE run_id = ? AND step_id = 'slow' ORDER BY attempt",
        id,
      ),
    ).toEqual([
      { attempt: 1, status: 'interrupted' },
      { attempt: 2, status: 'succeeded' },
    ]);
  });

  it('leaves a run to a live owner on another host until its lease runs out', () => {
    write('w.yaml', SLOW);
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    write('fixed', '');
    const claim = (heartbeat: number) =>
      update(
        defaultState(dir),
        "UPDATE runs SET status = 'running', owner_host = 'build-7', owner_pid = 4242, owner_start = '1', owner_token = 'theirs', heartbeat_at = ?, lease_until = ? WHERE id = ?",
        heartbeat,
        heartbeat + 15_000,
        id,
      );
    claim(Date.now());
    const refused = flow(['resume', id], dir);
    expect(refused.code).toBe(75);
    expect(refused.stderr).toContain('process 4242 on build-7');
    // 16 s ago: its 15 s lease has run out, though a minute has not passed.
    claim(Date.now() - 16_000);
    const taken = flow(['resume', id], dir);
    expect(taken.code, taken.stderr).toBe(0);
  });

  it('tells a live owner from a process that reuses its pid by the process start time', () => {
    write('w.yaml', SLOW);
    const id = runIdOf(flow(['run', 'w.yaml'], dir).stderr);
    write('fixed', '');
    const claim = (start: string) =>
      update(
        defaultState(dir),
        "UPDATE runs SET status = 'running', owner_host = ?, owner_pid = ?, owner_start = ?, owner_token = 'theirs', heartbeat_at = ? WHERE id = ?",
        hostname(),
        process.pid,
        start,
        Date.now(),
        id,
      );
    claim(processStartTime(process.pid)!);
    expect(flow(['resume', id], dir).code).toBe(75);
    claim('12345');
    expect(flow(['resume', id], dir).code).toBe(0);
  });

  it('fences a driver that lost its run: its next write is refused, it stops (exit 75) and records nothing more', async () => {
    write('w.yaml', SLOW);
    write('fixed', '');
    const driver = start(['run', 'w.yaml']);
    const id = await runningRun();
    // Another process takes the run over while `slow` runs.
    update(defaultState(dir), "UPDATE runs SET owner_token = 'thief', owner_pid = 4242, owner_host = 'build-7' WHERE id = ?", id);
    const done = await driver.done;
    expect(done.code).toBe(75);
    expect(done.stderr).toContain(`no longer owns run ${id}`);
    expect(side()).toEqual(['slow']);
    expect(query(defaultState(dir), 'SELECT step_id FROM steps WHERE run_id = ?', id)).toEqual([]);
    expect(
      query<{ status: string; owner_token: string }>(defaultState(dir), 'SELECT status, owner_token FROM runs WHERE id = ?', id),
    ).toEqual([{ status: 'running', owner_token: 'thief' }]);
  });
});

/** The id of the one run in the state file, once one of its step attempts is running. */
async function runningRun(): Promise<string> {
  const find = () =>
    existsSync(defaultState(dir))
      ? query<{ id: string }>(defaultState(dir), "SELECT run_id AS id FROM attempts WHERE status = 'running'")[0]?.id
      : undefined;
  await expect.poll(find, { timeout: 10_000 }).toBeTruthy();
  return find()!;
}
