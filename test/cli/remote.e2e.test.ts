import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SyncPgClient } from '../../src/state/postgres/sync-client.js';
import { flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { type FlowProcess, killLeftovers, startFlow, stopGracefully } from '../helpers/flow-process.js';
import { POSTGRES_MISSING, type PostgresServer, postgresBinaries, startPostgres } from '../helpers/postgres.js';
import { REDIS_MISSING, type RedisServer, redisBinary, startRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/terminal.js';

// `flow run --remote` and `flow worker` as users run them: real PostgreSQL and Redis servers of the test's own, real
// worker processes killed and stopped mid-run. A short lease (FLOW_LEASE_TTL) makes a lost worker noticed in a second.

const hasServers = postgresBinaries() !== undefined && redisBinary() !== undefined;
if (!hasServers) console.warn(`flow --remote skipped: ${postgresBinaries() ? REDIS_MISSING : POSTGRES_MISSING}`);
let postgres: PostgresServer | undefined;
let redis: RedisServer | undefined;
let client: SyncPgClient | undefined;
beforeAll(async () => {
  if (!hasServers) return;
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const { SyncPgClient } = await import('../../src/state/postgres/sync-client.js');
  client = new SyncPgClient(postgres.url);
}, 60_000);
afterAll(async () => {
  client?.close();
  await Promise.all([postgres?.stop(), redis?.stop()]);
});
afterEach(killLeftovers);

const LEASE = { FLOW_LEASE_TTL: '1s' };

/** A fan-out whose items each append `item attempt` to side.log, then say where they ran. */
const fanOut = (items: number, sleep: number, concurrency = 8) => `name: fan
secrets: [WORKER_TOKEN]
steps:
  - id: each
    type: shell
    for_each: \${{ [1..${items}] }}
    max_concurrency: ${concurrency}
    config:
      run: 'echo "\${{ item }} $FLOW_ATTEMPT" >> side.log; sleep ${sleep}; echo "item \${{ item }} on $WORKER_NAME with \${{ secrets.WORKER_TOKEN }}"'
  - id: count
    type: transform
    config: { value: "\${{ $count(steps.each.output) }}" }
outputs:
  count: \${{ steps.count.output }}
`;

function sideLines(dir: string): { item: number; attempt: number }[] {
  const path = join(dir, 'side.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [item, attempt] = line.split(' ').map(Number);
      return { item: item!, attempt: attempt! };
    });
}

function timesRun(dir: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { item } of sideLines(dir)) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

function worker(dir: string, state: string, name: string, extra: string[] = [], env: Record<string, string> = {}): FlowProcess {
  return startFlow(['worker', '--state', state, ...extra], dir, { ...LEASE, WORKER_NAME: name, WORKER_TOKEN: 'w-secret-7731', ...env });
}

async function ready(w: FlowProcess): Promise<void> {
  await waitFor(() => w.output().includes('takes the jobs of'), `the worker to start: ${w.output()}`, 20_000);
}

const runIdIn = (text: string) => /run (\w+) started/.exec(text)![1]!;
const rows = (sql: string) => client!.query(sql).rows;

describe.skipIf(!hasServers)('flow run --remote with flow worker', () => {
  it('fans items out over two workers on a Redis queue; secrets come from the workers and are nowhere stored', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(join(dir, 'w.yaml'), fanOut(12, 0.2));
    const state = `${postgres!.url}?schema=fan`;
    const queue = ['--queue', redis!.url];
    const workers = [worker(dir, state, 'w1', queue), worker(dir, state, 'w2', queue)];
    await Promise.all(workers.map(ready));
    const run = await flowAsync(['run', 'w.yaml', '--remote', ...queue, '--state', state, '--reporter', 'plain'], dir, LEASE);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ count: 12 });
    expect([...timesRun(dir).values()]).toEqual(Array(12).fill(1));
    const id = runIdIn(run.stderr);
    const logs = (await flowAsync(['logs', id, 'each', '--state', state], dir)).stdout;
    // Both workers took items; the secret each read from its own environment is masked in what the driver recorded.
    expect(logs).toMatch(/on w1 with \*\*\*/);
    expect(logs).toMatch(/on w2 with \*\*\*/);
    for (const w of workers) expect(await stopGracefully(w)).toBe(0);
    // Never in the store, nor in anything Redis wrote (its append-only files hold every write it took).
    const stored = rows(
      `SELECT (SELECT string_agg(coalesce(result, '') || scope, '') FROM fan.remote_attempts) || (SELECT string_agg(text, '') FROM fan.logs) || (SELECT string_agg(line, '') FROM fan.events) AS all`,
    )[0]!['all'] as string;
    expect(stored).toContain('on w1 with ***');
    expect(stored).not.toContain('w-secret-7731');
    const aof = readdirSync(join(redis!.dir, 'appendonlydir')).map((f) => readFileSync(join(redis!.dir, 'appendonlydir', f), 'latin1'));
    expect(aof.join('')).toContain(`${id}.each.0.1`);
    expect(aof.join('')).not.toContain('w-secret-7731');
    expect(rows(`SELECT state, count(*)::int AS n FROM fan.remote_attempts GROUP BY state`)).toEqual([{ state: 'done', n: 12 }]);
  });

  it('with the runs in PostgreSQL and no --queue, the queue is there too', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(join(dir, 'w.yaml'), fanOut(4, 0));
    const state = `${postgres!.url}?schema=pgq`;
    const w = worker(dir, state, 'w1');
    await ready(w);
    expect(w.output()).toContain(`from ${postgres!.url}?schema=pgq`);
    const run = await flowAsync(['run', 'w.yaml', '--remote', '--state', state], dir, LEASE);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ count: 4 });
    expect(rows(`SELECT count(*)::int AS n FROM pgq.remote_attempts WHERE state = 'done'`)).toEqual([{ n: 4 }]);
    // BullMQ's tables sit in a schema of their own beside flow's.
    expect(rows(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'pgq_queue'`)[0]!['n']).toBeGreaterThan(0);
    expect(await stopGracefully(w)).toBe(0);
  });

  it('a worker SIGKILLed mid fan-out loses nothing: only the items it was running run again', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(join(dir, 'w.yaml'), fanOut(40, 0.3, 4));
    const state = `${postgres!.url}?schema=killed`;
    const queue = ['--queue', redis!.url];
    const a = worker(dir, state, 'a', [...queue, '--concurrency', '2']);
    const b = worker(dir, state, 'b', [...queue, '--concurrency', '2']);
    await Promise.all([ready(a), ready(b)]);
    const run = flowAsync(['run', 'w.yaml', '--remote', ...queue, '--state', state, '--reporter', 'plain'], dir, LEASE);
    await waitFor(() => sideLines(dir).length >= 8, 'eight items to start', 30_000);
    a.child.kill('SIGKILL');
    const done = await run;
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toEqual({ count: 40 });
    const counts = timesRun(dir);
    expect([...counts.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const twice = [...counts].filter(([, n]) => n > 1).map(([item]) => item);
    // At most the killed worker's two in flight; each ran again as the attempt after the one it lost.
    expect(twice.length).toBeLessThanOrEqual(2);
    for (const item of twice)
      expect(
        sideLines(dir)
          .filter((l) => l.item === item)
          .map((l) => l.attempt),
      ).toEqual([1, 2]);
    expect(done.stderr).toMatch(/stopped answering/);
    const lost = rows(`SELECT item, attempt, status FROM killed.attempts WHERE status = 'interrupted' ORDER BY item`);
    expect(lost.length).toBe(twice.length);
    expect(await stopGracefully(b)).toBe(0);
  });

  it('a worker stopped past its claim is fenced: its late result is refused, the attempt recorded once', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(
      join(dir, 'w.yaml'),
      `name: slow
steps:
  - id: slow
    type: shell
    config: { run: 'echo "start $FLOW_ATTEMPT" >> side.txt; sleep 1.5; echo "end $FLOW_ATTEMPT" >> side.txt; echo "by $WORKER_NAME"' }
`,
    );
    const state = `${postgres!.url}?schema=zombie`;
    const a = worker(dir, state, 'a');
    await ready(a);
    const run = flowAsync(['run', 'w.yaml', '--remote', '--state', state], dir, LEASE);
    const side = () => (existsSync(join(dir, 'side.txt')) ? readFileSync(join(dir, 'side.txt'), 'utf8') : '');
    await waitFor(() => side().includes('start 1'), 'worker a to start the step', 20_000);
    a.child.kill('SIGSTOP');
    const b = worker(dir, state, 'b');
    const done = await run;
    expect(done.code, done.stderr).toBe(0);
    a.child.kill('SIGCONT');
    await waitFor(() => a.output().includes('fenced'), `worker a to wake and be fenced: ${a.output()}`, 20_000);
    const id = runIdIn(done.stderr);
    expect(rows(`SELECT attempt, state, worker FROM zombie.remote_attempts ORDER BY attempt`)).toEqual([
      { attempt: 1, state: 'revoked', worker: expect.stringMatching(/:\d+$/) },
      { attempt: 2, state: 'done', worker: expect.stringMatching(/:\d+$/) },
    ]);
    const shown = JSON.parse((await flowAsync(['show', id, '--json', '--state', state], dir)).stdout);
    expect(shown.steps[0]).toMatchObject({ id: 'slow', status: 'succeeded', attempts: 2 });
    expect((await flowAsync(['logs', id, 'slow', '--state', state], dir)).stdout).toContain('by b');
    expect(await stopGracefully(a)).toBe(0);
    expect(await stopGracefully(b)).toBe(0);
  });

  it('a driver SIGKILLed mid fan-out is taken over by another host, which waits for what its workers still hold', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(join(dir, 'w.yaml'), fanOut(8, 0.4));
    const state = `${postgres!.url}?schema=takeover`;
    const queue = ['--queue', redis!.url];
    const w = worker(dir, state, 'w', [...queue, '--concurrency', '2']);
    await ready(w);
    const driver = startFlow(['run', 'w.yaml', '--remote', ...queue, '--state', state], dir, { ...LEASE, FLOW_HOST_ID: 'host-a' });
    await waitFor(() => sideLines(dir).length >= 2, 'two items to start', 20_000);
    driver.child.kill('SIGKILL');
    await driver.exited;
    const id = runIdIn(driver.output());
    // The worker goes on with the jobs already queued; the run waits out its lease, then host b resumes it.
    await new Promise((r) => setTimeout(r, 1_500));
    const resumed = await flowAsync(['resume', id, '--remote', ...queue, '--state', state], dir, { ...LEASE, FLOW_HOST_ID: 'host-b' });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual({ count: 8 });
    // Every item ran once: none was started again while its job was in the queue or running.
    expect([...timesRun(dir).values()]).toEqual(Array(8).fill(1));
    expect(await stopGracefully(w)).toBe(0);
  });

  it('runs_on sends a step to the workers of its pool; the others go to the default pool', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(
      join(dir, 'w.yaml'),
      `name: pools
steps:
  - { id: train, type: shell, runs_on: gpu, config: { run: 'echo "train on $WORKER_NAME"' } }
  - { id: report, type: shell, config: { run: 'echo "report on $WORKER_NAME"' } }
outputs:
  train: \${{ steps.train.output.stdout }}
  report: \${{ steps.report.output.stdout }}
`,
    );
    const state = `${postgres!.url}?schema=pools`;
    const queue = ['--queue', redis!.url];
    const gpu = worker(dir, state, 'gpu-box', [...queue, '--pool', 'gpu']);
    const plain = worker(dir, state, 'plain-box', queue);
    await Promise.all([ready(gpu), ready(plain)]);
    expect(gpu.output()).toContain('takes the jobs of pool gpu from');
    const run = await flowAsync(['run', 'w.yaml', '--remote', ...queue, '--state', state], dir, LEASE);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ train: 'train on gpu-box\n', report: 'report on plain-box\n' });
    for (const w of [gpu, plain]) expect(await stopGracefully(w)).toBe(0);
  });

  it('concurrency: {key, limit} caps attempts across drivers, local and remote alike, through the store', async () => {
    const dir = tempDir('flow-remote-');
    // Each item logs when it starts and ends (ms); the workers run in the same directory, so one file has them all.
    writeFileSync(
      join(dir, 'w.yaml'),
      `name: capped
steps:
  - id: call
    type: shell
    for_each: \${{ [1..4] }}
    max_concurrency: 4
    concurrency: { key: "api-\${{ 'shared' }}", limit: 2 }
    config: { run: 'echo "+ $(date +%s%3N)" >> spans.log; sleep 0.3; echo "- $(date +%s%3N)" >> spans.log' }
`,
    );
    const state = `${postgres!.url}?schema=capped`;
    const queue = ['--queue', redis!.url];
    const w = worker(dir, state, 'w', [...queue, '--concurrency', '4']);
    await ready(w);
    const [local, remote] = await Promise.all([
      flowAsync(['run', 'w.yaml', '--state', state], dir, LEASE),
      flowAsync(['run', 'w.yaml', '--remote', ...queue, '--state', state], dir, LEASE),
    ]);
    expect(local.code, local.stderr).toBe(0);
    expect(remote.code, remote.stderr).toBe(0);
    const events = readFileSync(join(dir, 'spans.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ delta: line.startsWith('+') ? 1 : -1, at: Number(line.slice(2)) }))
      .sort((a, b) => a.at - b.at || a.delta - b.delta);
    expect(events.length).toBe(16);
    let running = 0;
    let most = 0;
    for (const e of events) {
      running += e.delta;
      most = Math.max(most, running);
    }
    // Eight items of 0.3 s, four at once allowed by each run: the shared cap of two held across both drivers.
    expect(most).toBe(2);
    expect(rows(`SELECT count(*)::int AS n FROM capped.concurrency_slots`)).toEqual([{ n: 0 }]);
    expect(await stopGracefully(w)).toBe(0);
  });

  it('chunk: N sends a for_each N items to a job; each item keeps its own result and retries', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(
      join(dir, 'w.yaml'),
      `name: chunked
steps:
  - id: each
    type: shell
    for_each: \${{ [1..12] }}
    max_concurrency: 12
    chunk: 5
    retry: { max_attempts: 2, initial_delay: 10ms }
    config: { run: 'if [ "\${{ item }}" = 4 ] && [ ! -f tried ]; then touch tried; exit 3; fi; echo "\${{ item }}"' }
outputs:
  said: \${{ steps.each.output.stdout }}
`,
    );
    const state = `${postgres!.url}?schema=chunked`;
    const w = worker(dir, state, 'w', ['--queue', redis!.url]);
    await ready(w);
    const run = await flowAsync(['run', 'w.yaml', '--remote', '--queue', redis!.url, '--state', state], dir, LEASE);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ said: Array.from({ length: 12 }, (_, i) => `${i + 1}\n`) });
    const id = runIdIn(run.stderr);
    // Three jobs of 5, 5 and 2 items; the item that failed went again as a job of its own.
    expect(w.output()).toContain(`${id}.each.0.1+5 4 succeeded, failed`);
    expect(w.output()).toContain(`${id}.each.5.1+5 5 succeeded`);
    expect(w.output()).toContain(`${id}.each.10.1+2 2 succeeded`);
    expect(w.output()).toContain(`${id}.each.3.2 succeeded`);
    expect(rows(`SELECT item, attempt, status FROM chunked.attempts WHERE item = 3 ORDER BY attempt`)).toEqual([
      { item: 3, attempt: 1, status: 'failed' },
      { item: 3, attempt: 2, status: 'succeeded' },
    ]);
    expect(await stopGracefully(w)).toBe(0);
  });

  it('refuses what it cannot do with one line and exit 2', async () => {
    const dir = tempDir('flow-remote-');
    writeFileSync(join(dir, 'w.yaml'), fanOut(1, 0));
    const noQueue = await flowAsync(['run', 'w.yaml', '--remote'], dir, { FLOW_QUEUE: '' });
    expect(noQueue.code).toBe(2);
    expect(noQueue.stderr).toMatch(/^flow: --remote needs a job queue\n {2}hint: give --queue redis:/);
    const queueAlone = await flowAsync(['run', 'w.yaml', '--queue', redis!.url], dir);
    expect(queueAlone.code).toBe(2);
    expect(queueAlone.stderr).toMatch(/^flow: --queue is the job queue of --remote runs/);
    const down = await flowAsync(['worker', '--queue', 'redis://:pw-77@127.0.0.1:1'], dir);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^flow: cannot use the job queue redis:\/\/:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(down.stderr).not.toContain('pw-77');
    expect(down.stderr).not.toMatch(/\n\s+at /);
    const scheme = await flowAsync(['worker'], dir, { FLOW_QUEUE: 'amqp://127.0.0.1/jobs' });
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(
      /^flow: cannot use the job queue amqp:\/\/127\.0\.0\.1\/jobs: a job queue is a redis:\/\/, rediss:\/\/ or postgres:\/\/ URL/,
    );
    const pool = await flowAsync(['worker', '--queue', redis!.url, '--pool', 'no spaces'], dir);
    expect(pool.code).toBe(2);
    expect(pool.stderr).toMatch(/'no spaces' is not a pool name/);
    // A secret input is stored masked: a step that would read it on a worker is refused, before the queue is opened.
    writeFileSync(
      join(dir, 'secret.yaml'),
      `inputs: { password: { type: string, secret: true } }
steps:
  - { id: login, type: shell, config: { run: 'echo "\${{ inputs.password }}" >> side.log' } }
`,
    );
    const secret = await flowAsync(['run', 'secret.yaml', '--remote', '--queue', 'redis://127.0.0.1:1', '--input', 'password=pw-55'], dir);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/^flow: step 'login' reads the secret input 'password', which a worker cannot have/);
    expect(secret.stderr).toContain('hint: give the value to the workers');
    // Nothing was recorded by any of them.
    expect(existsSync(join(dir, 'side.log'))).toBe(false);
  });
});
