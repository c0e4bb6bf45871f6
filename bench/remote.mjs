// Benchmark: flow run --remote. 2,000 no-op items over 2 `flow worker` processes, with the queue on PostgreSQL (the
// store's own database) and on Redis, the runs in PostgreSQL both times; and the time a remote step adds over the
// same step run locally. Formal targets (issue: beyond one machine): ≥ 400 items/s with the queue on PostgreSQL,
// ≥ 700 items/s on Redis. Throughput is judged on the median of the fan-out step's own duration (as `flow show`
// records it), the whole command's wall time beside it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBuild } from './lib/build-copy.mjs';
import { percentile } from './lib/measure.mjs';
import { markdownTable } from './lib/report.mjs';
import { loadServerHelper } from './lib/test-servers.mjs';

export const name = 'remote';
export const title = 'flow run --remote: 2,000 items over 2 workers, and what a remote step adds';

const ITEMS = 2_000;
const SEQUENTIAL = 20;
const TARGETS = { postgres: 400, redis: 700 };
const WORKER_CONCURRENCY = 32;
const DRIVER_CONCURRENCY = 64;

const CHUNK = 10;

const NOOP = 'export async function execute() { return null; }\n';
const fanOut = (chunk) => `name: fan
executors: { noop: ./noop.mjs }
steps:
  - id: each
    type: noop
    for_each: \${{ [1..${ITEMS}] }}
    max_concurrency: ${DRIVER_CONCURRENCY}
${chunk > 1 ? `    chunk: ${chunk}\n` : ''}`;
const sequential = `name: seq
executors: { noop: ./noop.mjs }
steps:
${Array.from({ length: SEQUENTIAL }, (_, i) => `  - { id: s${i}, type: noop }`).join('\n')}
`;

export async function run({ root: checkout, quick, log }) {
  const rounds = quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-remote-'));
  const [{ startPostgres }, { startRedis }] = await Promise.all([
    loadServerHelper(checkout, 'postgres'),
    loadServerHelper(checkout, 'redis'),
  ]);
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  try {
    const stamp = copyBuild(checkout, join(dir, 'build'), log);
    const flow = join(dir, 'build', 'bin', 'flow.js');
    writeFileSync(join(dir, 'noop.mjs'), NOOP);
    writeFileSync(join(dir, 'fan.yaml'), fanOut(1));
    writeFileSync(join(dir, 'chunked.yaml'), fanOut(CHUNK));
    writeFileSync(join(dir, 'seq.yaml'), sequential);
    const rows = [];
    let schemas = 0;
    for (const chunk of [1, CHUNK]) {
      for (const queue of ['postgres', 'redis']) {
        const step = [];
        const wall = [];
        for (let i = 0; i < rounds; i++) {
          const state = `${postgres.url}?schema=bench${++schemas}`;
          const queueArgs = queue === 'redis' ? ['--queue', redis.url] : [];
          const file = chunk > 1 ? 'chunked.yaml' : 'fan.yaml';
          log(`remote: ${ITEMS} items over 2 workers, queue on ${queue}, chunk ${chunk}, round ${i + 1} of ${rounds}...`);
          const result = await withWorkers(flow, dir, state, queueArgs, () =>
            timedRun(flow, dir, [file, '--remote', ...queueArgs, '--state', state]),
          );
          step.push(ITEMS / (result.stepMs.each / 1000));
          wall.push(ITEMS / (result.wallMs / 1000));
        }
        rows.push(throughputRow(queue, chunk, step, wall));
      }
    }
    log(`remote: ${SEQUENTIAL} sequential steps, local and remote (queue on Redis), ${rounds * 3} runs each...`);
    const local = [];
    const remote = [];
    const state = `${postgres.url}?schema=latency`;
    await withWorkers(flow, dir, state, ['--queue', redis.url], async () => {
      for (let i = 0; i < rounds * 3; i++) {
        local.push(...Object.values((await timedRun(flow, dir, ['seq.yaml', '--state', state])).stepMs));
        remote.push(...Object.values((await timedRun(flow, dir, ['seq.yaml', '--remote', '--queue', redis.url, '--state', state])).stepMs));
      }
    });
    rows.push(latencyRow(local, remote));
    return { rows, notes: notes(rows, rounds, stamp) };
  } finally {
    await Promise.all([postgres.stop(), redis.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `work` while two workers serve the queue; stops them (SIGTERM) after. */
async function withWorkers(flow, dir, state, queueArgs, work) {
  const workers = [0, 1].map(() =>
    spawn(process.execPath, [flow, 'worker', '--state', state, ...queueArgs, '--concurrency', String(WORKER_CONCURRENCY)], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  try {
    await Promise.all(workers.map(started));
    return await work();
  } finally {
    await Promise.all(workers.map(stopWorker));
  }
}

/** SIGTERM, as a service manager stops a worker: it finishes its jobs, then exits. */
function stopWorker(worker) {
  return new Promise((resolve) => {
    if (worker.exitCode !== null || worker.signalCode !== null) return resolve();
    worker.on('close', resolve);
    worker.kill('SIGTERM');
  });
}

function started(worker) {
  return new Promise((resolve, reject) => {
    let text = '';
    worker.stderr.on('data', (d) => {
      text += d;
      if (text.includes('takes the jobs of')) resolve();
    });
    worker.on('close', () => reject(new Error(`a worker exited: ${text}`)));
  });
}

/** One `flow run`: its wall time, and each step's duration as the run recorded it. */
async function timedRun(flow, dir, args) {
  const started = performance.now();
  const child = spawn(process.execPath, [flow, 'run', ...args, '--reporter', 'plain'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`flow run ${args.join(' ')} exited ${code}: ${stderr}`);
  const id = /run (\w+) started/.exec(stderr)[1];
  const state = args[args.indexOf('--state') + 1];
  const shown = JSON.parse(
    spawnSync(process.execPath, [flow, 'show', id, '--json', '--state', state], { cwd: dir, encoding: 'utf8' }).stdout,
  );
  return { wallMs, stepMs: Object.fromEntries(shown.steps.map((s) => [s.id, s.duration_ms])) };
}

// The targets are for one item per job; chunk: 10 is shown beside them.
function throughputRow(queue, chunk, step, wall) {
  const median = percentile(step, 50);
  const formal = chunk === 1;
  return {
    benchmark: name,
    case: `${ITEMS} no-op items, 2 workers, queue on ${queue === 'redis' ? 'Redis' : 'PostgreSQL'}${chunk > 1 ? `, chunk: ${chunk}` : ''} (items/s)`,
    subjectMedian: median,
    target: formal ? `≥ ${TARGETS[queue]} items/s` : 'info',
    result: formal ? (median >= TARGETS[queue] ? 'PASS' : 'FAIL') : 'info',
    formal,
    detail: { min: Math.min(...step), wall: percentile(wall, 50) },
  };
}

function latencyRow(local, remote) {
  return {
    benchmark: name,
    case: 'a no-op step, remote (Redis queue) vs local (ms per step)',
    subjectMedian: percentile(remote, 50),
    baselineMedian: percentile(local, 50),
    ratio: percentile(remote, 50) / Math.max(1, percentile(local, 50)),
    target: 'info',
    result: 'info',
    formal: false,
    detail: { p90: percentile(remote, 90), localP90: percentile(local, 90) },
  };
}

function notes(rows, rounds, stamp) {
  const latency = rows.at(-1);
  const throughput = rows.slice(0, -1);
  const table = markdownTable(
    [
      { title: 'case', value: (r) => r.case },
      { title: 'median', value: (r) => r.median, right: true },
      { title: 'slowest / p90', value: (r) => r.other, right: true },
      { title: 'whole command', value: (r) => r.wall, right: true },
    ],
    [
      ...throughput.map((r) => ({
        case: r.case,
        median: `${r.subjectMedian.toFixed(0)} items/s`,
        other: `${r.detail.min.toFixed(0)} items/s`,
        wall: `${r.detail.wall.toFixed(0)} items/s`,
      })),
      {
        case: 'remote no-op step (local beside it)',
        median: `${latency.subjectMedian.toFixed(1)} ms (${latency.baselineMedian.toFixed(1)})`,
        other: `${latency.detail.p90.toFixed(1)} ms (${latency.detail.localP90.toFixed(1)})`,
        wall: '',
      },
    ],
  );
  return [
    `A copy of dist/ (cli.cjs of ${stamp}). PostgreSQL 15 and Redis 7 servers of the benchmark's own on loopback (the tests'`,
    `helpers); the runs kept in PostgreSQL. Two \`flow worker --concurrency ${WORKER_CONCURRENCY}\` processes; the driver's for_each has`,
    `max_concurrency ${DRIVER_CONCURRENCY}, one item per job, then \`chunk: ${CHUNK}\` (ten per job). The item is a custom step whose execute`,
    "returns null: all it costs is flow's and the queue's.",
    `${rounds} round(s) per queue, each on a fresh schema; items/s is ${ITEMS} over the fan-out step's recorded duration (the`,
    'whole command, start-up included, beside it). The latency row compares the recorded durations of',
    `${SEQUENTIAL} sequential no-op steps run remotely and locally.`,
    '',
    table,
  ].join('\n');
}
