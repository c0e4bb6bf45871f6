import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, readEvents } from '../helpers/api.js';
import { FLOW_BIN, flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { POSTGRES_MISSING, type PostgresServer, postgresBinaries, startPostgres } from '../helpers/postgres.js';

// `--state postgres://…` as a user gives it: the same commands, the runs in PostgreSQL (a throwaway server).

const hasPostgres = postgresBinaries() !== undefined;
if (!hasPostgres) console.warn(`flow on a PostgreSQL store skipped: ${POSTGRES_MISSING}`);
let postgres: PostgresServer | undefined;
beforeAll(async () => {
  if (hasPostgres) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const WORKFLOW = `name: pg
steps:
  - { id: setup, type: shell, config: { run: "echo set up >> setups.txt; echo ready" } }
  - id: check
    type: shell
    retry: { max_attempts: 2, initial_delay: 10ms }
    config: { run: "test -f go || { echo 'not yet' >&2; exit 3; }; echo went" }
outputs:
  said: "\${{ steps.check.output }}"
`;

describe.skipIf(!hasPostgres)('flow with --state postgres://', () => {
  it('runs, lists, shows, tails and resumes a run kept in PostgreSQL; no state file is made', async () => {
    const dir = tempDir('flow-pg-');
    writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
    // The server trusts every password: one in the URL must never be printed, the resume hint included.
    const state = `${postgres!.url.replace('flow@', 'flow:sekret@')}?schema=cli`;
    const failed = await flowAsync(['run', 'w.yaml', '--state', state], dir);
    expect(failed.code, failed.stderr).toBe(1);
    const id = /flow: run (\w+) started/.exec(failed.stderr)![1]!;
    expect(failed.stderr).toContain(`flow resume ${id} --state 'postgres://flow:***@127.0.0.1:`);
    expect(failed.stderr).not.toContain('sekret');

    const listed = await flowAsync(['runs', '--json'], dir, { FLOW_STATE: state });
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id, status: 'failed', workflow: 'pg' }]);
    const shown = JSON.parse((await flowAsync(['show', id, '--json', '--state', state], dir)).stdout);
    expect(shown).toMatchObject({
      status: 'failed',
      steps: [
        { id: 'setup', status: 'succeeded' },
        { id: 'check', status: 'failed', attempts: 2 },
      ],
    });
    expect((await flowAsync(['logs', id, 'check', '--state', state], dir)).stdout).toContain('not yet');

    writeFileSync(join(dir, 'go'), '');
    const resumed = await flowAsync(['resume', id, '--state', state], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ said: { exit_code: 0, stdout: 'went\n' } });
    // What succeeded is not run again.
    expect(readFileSync(join(dir, 'setups.txt'), 'utf8')).toBe('set up\n');
    const again = JSON.parse((await flowAsync(['show', id, '--json', '--state', state], dir)).stdout);
    expect(again).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(existsSync(join(dir, '.flow'))).toBe(false);
  });

  it('8 flow run processes started together on a new schema all complete, every record there', async () => {
    const dir = tempDir('flow-pg-');
    writeFileSync(
      join(dir, 'w.yaml'),
      'name: many\nsteps:\n  - { id: a, type: shell, config: { run: "echo a" } }\n  - { id: t, type: transform, config: { value: 1 } }\n',
    );
    const state = `${postgres!.url}?schema=eight`;
    const runs = await Promise.all(Array.from({ length: 8 }, () => flowAsync(['run', 'w.yaml', '--state', state], dir)));
    expect(
      runs.map((r) => r.code),
      runs.map((r) => r.stderr).join(''),
    ).toEqual(Array(8).fill(0));
    const listed = JSON.parse((await flowAsync(['runs', '--json', '--state', state], dir)).stdout) as { status: string }[];
    expect(listed.map((r) => r.status)).toEqual(Array(8).fill('succeeded'));
    const { SyncPgClient } = await import('../../src/state/postgres/sync-client.js');
    const client = new SyncPgClient(postgres!.url);
    expect(client.query('SELECT count(*)::int AS n FROM eight.steps').rows).toEqual([{ n: 16 }]);
    client.close();
  });

  it('flow state migrate creates the schema once, then finds it done; a state file the same', async () => {
    const dir = tempDir('flow-pg-');
    const url = `${postgres!.url}?schema=migrated`;
    const first = await flowAsync(['state', 'migrate', '--state', url], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^postgres:\/\/flow@127\.0\.0\.1:\d+\/flow\?schema=migrated: schema 0 → \d+ \(created\)\n$/);
    expect((await flowAsync(['state', 'migrate', '--state', url], dir)).stdout).toMatch(/schema \d+, already this flow's/);
    expect((await flowAsync(['state', 'migrate'], dir)).stdout).toMatch(/state\.db: schema 0 → \d+ \(created\)/);
    expect((await flowAsync(['state', 'migrate'], dir)).stdout).toMatch(/state\.db: schema \d+, already this flow's/);
  });

  it('a server that is not there: one line naming the URL without its password, exit 2, nothing run', async () => {
    const dir = tempDir('flow-pg-');
    writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
    const r = await flowAsync(['run', 'w.yaml', '--state', 'postgres://flow:hunter2@127.0.0.1:1/flow'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flow: cannot use the state store postgres:\/\/flow:\*\*\*@127\.0\.0\.1:1\/flow: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'setups.txt'))).toBe(false);
    // A connection that cannot even be set up (a certificate file that is not there): at once, the same one line.
    const started = Date.now();
    const bad = await flowAsync(['run', 'w.yaml', '--state', `${postgres!.url}?sslmode=verify-full&sslrootcert=/no/such/ca.pem`], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^flow: cannot use the state store postgres:\/\/.*no\/such\/ca\.pem/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

// Two drivers standing for two hosts (FLOW_HOST_ID), a short lease (FLOW_LEASE_TTL): who owns a run is decided by
// the lease alone, as between machines.
const HOSTS = `name: hosts
steps:
  - { id: one, type: shell, config: { run: "echo one >> log" } }
  - { id: wait, type: shell, config: { run: "while [ ! -f go ]; do sleep 0.05; done; echo two >> log" } }
  - { id: three, type: shell, config: { run: "echo three >> log" } }
`;

describe.skipIf(!hasPostgres)('the run lease across hosts, on PostgreSQL', () => {
  const lines = (dir: string) => (existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').split('\n').filter(Boolean) : []);
  async function startDriver(dir: string, state: string, env: Record<string, string>) {
    const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml', '--state', state], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 20_000;
    while (!lines(dir).includes('one')) {
      if (Date.now() > deadline) throw new Error(`the driver did not reach its second step: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    const id = /flow: run (\w+) started/.exec(stderr)![1]!;
    return { child, exited, id, stderr: () => stderr };
  }

  it('a killed driver’s run is refused to another host while its lease lasts, then taken over and finished', async () => {
    const dir = tempDir('flow-pg-');
    writeFileSync(join(dir, 'w.yaml'), HOSTS);
    const state = `${postgres!.url}?schema=killed`;
    const lease = { FLOW_LEASE_TTL: '3s' };
    const a = await startDriver(dir, state, { ...lease, FLOW_HOST_ID: 'host-a' });
    a.child.kill('SIGKILL');
    await a.exited;
    const refused = await flowAsync(['resume', a.id, '--state', state], dir, { ...lease, FLOW_HOST_ID: 'host-b' });
    expect(refused.code, refused.stderr).toBe(75);
    expect(refused.stderr).toMatch(/on host-a/);
    writeFileSync(join(dir, 'go'), '');
    await new Promise((r) => setTimeout(r, 3_200));
    const taken = await flowAsync(['resume', a.id, '--state', state], dir, { ...lease, FLOW_HOST_ID: 'host-b' });
    expect(taken.code, taken.stderr).toBe(0);
    // What succeeded ran once; the step in flight at the kill ran again (its orphaned process may finish too).
    const log = lines(dir);
    expect(log.filter((l) => l === 'one')).toEqual(['one']);
    expect(log.filter((l) => l === 'three')).toEqual(['three']);
    expect(log.filter((l) => l === 'two').length).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('a driver stopped past its lease wakes to find its run taken over: it writes nothing more and exits 75', async () => {
    const dir = tempDir('flow-pg-');
    writeFileSync(join(dir, 'w.yaml'), HOSTS);
    const state = `${postgres!.url}?schema=zombie`;
    const lease = { FLOW_LEASE_TTL: '1s' };
    const a = await startDriver(dir, state, { ...lease, FLOW_HOST_ID: 'host-a' });
    a.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 1_500));
    writeFileSync(join(dir, 'go'), '');
    const taken = await flowAsync(['resume', a.id, '--state', state], dir, { ...lease, FLOW_HOST_ID: 'host-b' });
    expect(taken.code, taken.stderr).toBe(0);
    const before = (await flowAsync(['show', a.id, '--json', '--state', state], dir)).stdout;
    a.child.kill('SIGCONT');
    expect(await a.exited).toBe(75);
    expect(a.stderr()).toContain(`no longer owns run ${a.id}`);
    // Its step's process ran on (a side effect is at least once), but the record is the new owner's alone.
    expect(lines(dir).filter((l) => l === 'three')).toEqual(['three']);
    const after = (await flowAsync(['show', a.id, '--json', '--state', state], dir)).stdout;
    expect(JSON.parse(after)).toEqual(JSON.parse(before));
    expect(JSON.parse(after)).toMatchObject({ status: 'succeeded', attempt: 2 });
  }, 30_000);
});

describe.skipIf(!hasPostgres)('flow serve on PostgreSQL', () => {
  it('lists the runs and streams a live run’s events to the end, as on a state file', async () => {
    const dir = tempDir('flow-pg-');
    writeFileSync(join(dir, 'w.yaml'), HOSTS);
    const state = `${postgres!.url}?schema=served`;
    const server = spawn(process.execPath, [FLOW_BIN, 'serve', '--port', '0', '--state', state], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let err = '';
        server.stderr.on('data', (d) => {
          err += d;
          if (err.includes('\n')) resolve(err.split('\n')[0]!);
        });
        server.on('close', () => reject(new Error(err)));
      });
      const [, base, token] = /(http:\S+)\/\?token=(\S+)/.exec(first)!;
      const driver = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml', '--state', state], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let driverErr = '';
      driver.stderr.on('data', (d) => (driverErr += d));
      const driverDone = new Promise((resolve) => driver.on('close', resolve));
      let id: string | undefined;
      while (!id) {
        await new Promise((r) => setTimeout(r, 50));
        id = /flow: run (\w+) started/.exec(driverErr)?.[1];
      }
      const listed = await call(base!, '/api/v1/runs', { token: token! });
      expect((listed.body as { runs: { id: string; status: string }[] }).runs).toMatchObject([{ id, status: 'running' }]);
      const events = readEvents(`${base}/api/v1/runs/${id}/events`, { authorization: `Bearer ${token}` }, (m) =>
        m.some((e) => e.data.includes('"type":"run-finished"')),
      );
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(join(dir, 'go'), '');
      const got = await events;
      await driverDone;
      expect(got[0]!.event).toBe('snapshot');
      const types = got.slice(1).map((e) => JSON.parse(e.data).type);
      expect(types).toContain('step-finished');
      expect(types.at(-1)).toBe('run-finished');
      const seqs = got.slice(1).map((e) => Number(e.id));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      server.kill('SIGTERM');
    }
  }, 30_000);
});
