// Remote soak: node bench/soak-remote.mjs [--cycles N] [--seed S]
// Each cycle starts `flow run --remote` of a fan-out of 30 items over two `flow worker` processes (a Redis queue,
// the runs in PostgreSQL: servers of the soak's own), and SIGKILLs one of the three at a random moment: a worker
// (another is started in its place) or the driver (its run is then resumed by a driver standing for another host,
// FLOW_HOST_ID, once its lease has run out). Every item appends `<item> <attempt>` to side.log.
// Checked per cycle: the run succeeds with all 30 outputs; every item ran (0 lost); an item ran more than once only
// when a kill found it running. Prints each cycle and the totals; exit 1 on any violation.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyBuild } from './lib/build-copy.mjs';
import { loadServerHelper } from './lib/test-servers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// A private copy of the build, so that a rebuild while the soak runs does not pull dist/ from under it.
let FLOW_BIN = join(root, 'bin', 'flow.js');
const ITEMS = 30;
const LEASE = { FLOW_LEASE_TTL: '1s' };

function parseArgs(argv) {
  const opts = { cycles: 20, seed: Date.now() % 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const n = Number(argv[++i]);
    if ((arg !== '--cycles' && arg !== '--seed') || !Number.isInteger(n) || n < 0)
      throw new Error(`usage: node bench/soak-remote.mjs [--cycles N] [--seed S]`);
    opts[arg.slice(2)] = n;
  }
  return opts;
}

const WORKFLOW = `name: soak
steps:
  - id: each
    type: shell
    for_each: \${{ [1..${ITEMS}] }}
    max_concurrency: 6
    config:
      run: 'echo "$FLOW_RUN_ID \${{ item }} $FLOW_ATTEMPT" >> side.log; sleep 0.\${{ $string(item % 3 + 1) }}; echo "\${{ item }}"'
  - { id: count, type: transform, config: { value: "\${{ $count(steps.each.output) }}" } }
outputs:
  count: \${{ steps.count.output }}
`;

function random(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function start(args, cwd, env) {
  const child = spawn(process.execPath, [FLOW_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...LEASE, ...env } });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  return { child, output: () => output, exited };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(check, what, ms = 30_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function sideLines(dir) {
  const path = join(dir, 'side.log');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const rand = random(opts.seed);
  const [{ startPostgres }, { startRedis }] = await Promise.all([loadServerHelper(root, 'postgres'), loadServerHelper(root, 'redis')]);
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const base = mkdtempSync(join(tmpdir(), 'flow-soak-remote-'));
  copyBuild(root, join(base, 'build'));
  FLOW_BIN = join(base, 'build', 'bin', 'flow.js');
  const state = `${postgres.url}?schema=soak`;
  const queue = ['--queue', redis.url];
  const workers = [];
  const startWorker = async () => {
    const w = start(['worker', '--state', state, ...queue, '--concurrency', '3'], base, {});
    await until(() => w.output().includes('takes the jobs of'), `a worker to start: ${w.output()}`);
    workers.push(w);
  };
  const totals = { cycles: 0, workerKills: 0, driverKills: 0, items: 0, duplicates: 0, lost: 0, violations: 0 };
  console.log(`remote soak: ${opts.cycles} cycles, seed ${opts.seed}`);
  try {
    await startWorker();
    await startWorker();
    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      const dir = join(base, `cycle-${cycle}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
      // The workers run the steps in their own directory: one side.log for every cycle, its lines told apart by run.
      const killAt = 1 + Math.floor(rand() * (ITEMS - 2));
      const killWorker = rand() < 0.5;
      const driver = start(['run', 'w.yaml', '--remote', ...queue, '--state', state, '--reporter', 'plain'], dir, {
        FLOW_HOST_ID: 'host-a',
      });
      await until(() => /run \w+ started/.test(driver.output()), `the run to start: ${driver.output()}`);
      const id = /run (\w+) started/.exec(driver.output())[1];
      const side = () => sideLines(base).filter((l) => l.startsWith(`${id} `));
      await until(() => side().length >= killAt || driver.child.exitCode !== null, 'items to start');
      let finished;
      if (killWorker) {
        const victim = workers.splice(Math.floor(rand() * workers.length), 1)[0];
        victim.child.kill('SIGKILL');
        await victim.exited;
        totals.workerKills++;
        await startWorker();
        const code = await driver.exited;
        finished = { code, output: driver.output() };
      } else {
        driver.child.kill('SIGKILL');
        await driver.exited;
        totals.driverKills++;
        for (;;) {
          await sleep(1_100);
          const resumed = start(['resume', id, '--remote', ...queue, '--state', state], dir, { FLOW_HOST_ID: 'host-b' });
          const code = await resumed.exited;
          finished = { code, output: resumed.output() };
          if (code !== 75) break;
        }
      }
      const lines = side().map((l) => Number(l.split(' ')[1]));
      const counts = new Map();
      for (const item of lines) counts.set(item, (counts.get(item) ?? 0) + 1);
      const lost = Array.from({ length: ITEMS }, (_, i) => i + 1).filter((i) => !counts.has(i));
      const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
      const outputs = /"count": (\d+)/.exec(finished.output)?.[1];
      const problems = [];
      if (finished.code !== 0) problems.push(`the run ended with exit ${finished.code}`);
      if (outputs !== String(ITEMS)) problems.push(`its outputs counted ${outputs} items, not ${ITEMS}`);
      if (lost.length > 0) problems.push(`items never ran: ${lost.join(', ')}`);
      // A kill finds at most the killed worker's 3, or the driver's 6, items running.
      if (duplicates > (killWorker ? 3 : 6)) problems.push(`${duplicates} items ran twice`);
      totals.cycles++;
      totals.items += ITEMS;
      totals.duplicates += duplicates;
      totals.lost += lost.length;
      totals.violations += problems.length;
      console.log(
        `cycle ${String(cycle).padStart(3)}: killed the ${killWorker ? 'worker ' : 'driver '} after ${String(killAt).padStart(2)} items; ${duplicates} ran twice, ${lost.length} lost${problems.length ? `  VIOLATION: ${problems.join('; ')}\n${finished.output}` : ''}`,
      );
    }
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all([postgres.stop(), redis.stop()]);
    rmSync(base, { recursive: true, force: true });
  }
  console.log(
    `remote soak: ${totals.cycles} cycles, ${totals.workerKills} workers and ${totals.driverKills} drivers killed; ${totals.items} items, ${totals.duplicates} ran twice, ${totals.lost} lost; ${totals.violations} violations`,
  );
  if (totals.violations > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`remote soak: ${err.message}`);
  process.exitCode = 2;
});
