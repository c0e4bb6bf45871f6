// Crash soak: node bench/soak.mjs [--cycles N] [--seed S] [--keep]
// Each cycle starts `flow run` of a workflow with a parallel group and a for_each of 10 items (short sleeps),
// SIGKILLs it at a random moment, then resumes it until it succeeds, killing some resumes at random moments too
// (from their very start, so a kill may land in the take-over itself). Every shell execution appends
// `<key> <run attempt>` to side.log; after each kill the state file is read (read-only) before the next resume.
// Checked per cycle: the run succeeds with the outputs of an uninterrupted run; a step recorded as succeeded at a
// kill never runs again; a step runs at most once more per kill that found it running; PRAGMA integrity_check is ok.
// Exit 1 on any violation (the failing cycle's directory is kept and named), 2 on a usage error.
// FLOW_CRASH_BIN=path soaks another build of flow (e.g. a copy, while dist/ is being rebuilt).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FLOW_BIN = process.env['FLOW_CRASH_BIN'] ?? join(root, 'bin', 'flow.js');

function parseArgs(argv) {
  const opts = { cycles: 100, seed: Date.now() % 100_000, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') opts.keep = true;
    else if (arg === '--cycles' || arg === '--seed') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} takes a whole number`);
      opts[arg.slice(2)] = n;
    } else throw new Error(`unknown argument ${arg}; usage: node bench/soak.mjs [--cycles N] [--seed S] [--keep]`);
  }
  return opts;
}

const side = (key) => `echo "${key} \${{ run.attempt }}" >> side.log`;
const step = (key, sleep, rest) => `'${side(key)}; sleep ${sleep}; ${rest}'`;
const ITEMS = 10;
const WORKFLOW = `steps:
  - { id: prep, type: shell, config: { run: ${step('prep', 0.03, 'echo v=P >> "$FLOW_OUTPUT"')} } }
  - id: t0
    type: transform
    config: { value: "\${{ steps.prep.output.v & '0' }}" }
  - id: par
    parallel:
      steps:
        - { id: pa, type: shell, config: { run: ${step('pa', 0.03, 'echo v=A >> "$FLOW_OUTPUT"')} } }
        - { id: pb, type: shell, config: { run: ${step('pb', 0.05, 'echo v=B >> "$FLOW_OUTPUT"')} } }
        - id: seq
          steps:
            - { id: sa, type: shell, config: { run: ${step('sa', 0.02, 'echo v=S >> "$FLOW_OUTPUT"')} } }
            - { id: st, type: transform, config: { value: "\${{ steps.sa.output.v & 'T' }}" } }
            - { id: sb, type: shell, config: { run: ${step('sb', 0.02, 'echo "v=${{ steps.st.output }}" >> "$FLOW_OUTPUT"')} } }
  - id: t1
    type: transform
    config: { value: "\${{ steps.pa.output.v & steps.pb.output.v & steps.sb.output.v }}" }
  - id: each
    type: shell
    for_each: "\${{ [1..${ITEMS}] }}"
    max_concurrency: 3
    config: { run: ${step('each[${{ index }}]', 0.02, 'echo "v=${{ item * item }}" >> "$FLOW_OUTPUT"')} }
    outputs: { sq: "\${{ output.v }}" }
  - id: t2
    type: transform
    config: { value: "\${{ $sum(steps.each.output.v.$number()) }}" }
  - id: fin
    type: shell
    config: { run: ${step('fin', 0.01, 'echo "v=${{ steps.t0.output }}-${{ steps.t1.output }}-${{ steps.t2.output }}" >> "$FLOW_OUTPUT"')} }
    outputs: { v: "\${{ output.v }}" }
outputs:
  fin: "\${{ steps.fin.outputs.v }}"
  each: "\${{ steps.each.output.v }}"
`;
const KEYS = ['prep', 'pa', 'pb', 'sa', 'sb', ...Array.from({ length: ITEMS }, (_, i) => `each[${i}]`), 'fin'];
// The sleeps on the critical path after the run's first line: 0.03 + 0.05 + 4 * 0.02 + 0.01 s.
const FIRST_KILL_MAX_MS = 150;

function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// `flow ARGS` in dir; killed with SIGKILL `killAfterMs` after its first line (afterLine) or after it started.
function runFlow(args, dir, kill) {
  const env = { ...process.env, NO_COLOR: '1', TMPDIR: join(dir, 'tmp') };
  delete env['FLOW_FAILPOINT'];
  delete env['FLOW_STATE'];
  const child = spawn(process.execPath, [FLOW_BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timer;
  let exited = false;
  const arm = () => {
    timer ??= setTimeout(() => exited || child.kill('SIGKILL'), kill.afterMs);
  };
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (kill?.afterLine && /^flow: (run \S+ started|resuming run)/m.test(stderr)) arm();
  });
  if (kill && !kill.afterLine) arm();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      const done = () => resolve({ code, signal, stdout, stderr });
      const cap = setTimeout(done, 2000);
      child.on('close', () => {
        clearTimeout(cap);
        done();
      });
    });
  });
}

const statePath = (dir) => join(dir, '.flow', 'state.db');
const keyOf = (stepId, item) => (item < 0 ? stepId : `${stepId}[${item}]`);

function readState(dir) {
  if (!existsSync(statePath(dir))) return undefined;
  const db = new Database(statePath(dir), { readonly: true, fileMustExist: true });
  try {
    const run = db.prepare('SELECT id, status, attempt, outputs FROM runs WHERE parent_run_id IS NULL').get();
    if (!run) return undefined;
    const steps = db.prepare('SELECT step_id, item, status FROM steps WHERE run_id = ?').all(run.id);
    const attempts = db.prepare('SELECT step_id, item, status, run_attempt FROM attempts WHERE run_id = ?').all(run.id);
    return {
      run,
      steps: new Map(steps.map((s) => [keyOf(s.step_id, s.item), s.status])),
      attempts: attempts.map((a) => ({ key: keyOf(a.step_id, a.item), status: a.status, runAttempt: a.run_attempt })),
    };
  } finally {
    db.close();
  }
}

function integrity(dir) {
  const db = new Database(statePath(dir), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('PRAGMA integrity_check')
      .all()
      .map((r) => r.integrity_check)
      .join('; ');
  } finally {
    db.close();
  }
}

function readSide(dir) {
  const path = join(dir, 'side.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [key, attempt] = l.split(' ');
      return { key, runAttempt: Number(attempt) };
    });
}

// Steps a SIGKILL orphaned finish by themselves: count side effects once no process works in the directory.
async function waitUntilQuiet(dir, ms = 15_000) {
  const real = realpathSync(dir);
  const deadline = Date.now() + ms;
  for (;;) {
    const busy = readdirSync('/proc').some((p) => {
      if (!/^\d+$/.test(p)) return false;
      try {
        return readlinkSync(`/proc/${p}/cwd`) === real;
      } catch {
        return false;
      }
    });
    if (!busy) return;
    if (Date.now() > deadline) throw new Error(`processes still running in ${dir}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function freshDir() {
  const dir = mkdtempSync(join(tmpdir(), 'flow-soak-'));
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
  return dir;
}

async function cycle(random, expected) {
  const dir = freshDir();
  const problems = [];
  let kills = 0;
  const first = await runFlow(['run', 'w.yaml'], dir, { afterLine: true, afterMs: Math.floor(random() * FIRST_KILL_MAX_MS) });
  if (first.signal === 'SIGKILL') kills++;
  const runId = /^flow: run (\S+) started/m.exec(first.stderr)?.[1];
  const snapshots = [];
  let last = first;
  let resumes = 0;
  while (runId && last.signal === 'SIGKILL' && resumes < 12) {
    snapshots.push(readState(dir));
    // Some resumes are killed too, from their start (the take-over itself may be cut), never more than 5 in a row.
    const kill = resumes < 5 && random() < 0.4 ? { afterLine: false, afterMs: Math.floor(random() * 400) } : undefined;
    last = await runFlow(['resume', runId], dir, kill);
    resumes++;
    if (last.signal === 'SIGKILL') kills++;
  }
  await waitUntilQuiet(dir);
  const final = readState(dir);
  const lines = readSide(dir);
  const counts = new Map();
  for (const l of lines) counts.set(l.key, (counts.get(l.key) ?? 0) + 1);
  if (!runId) problems.push(`no run id: ${first.stderr}`);
  if (last.code !== 0)
    problems.push(`the last process ended with ${last.signal ?? `exit ${last.code}`}: ${last.stderr.split('\n').slice(-4).join(' | ')}`);
  else if (JSON.stringify(JSON.parse(last.stdout)) !== JSON.stringify(expected)) problems.push(`outputs ${last.stdout} differ`);
  if (final?.run.status !== 'succeeded') problems.push(`run recorded ${final?.run.status}`);
  let reruns = 0;
  snapshots.forEach((snap, i) => {
    const attempt = snap?.run.attempt ?? 1;
    for (const [key, status] of snap?.steps ?? []) {
      if (status !== 'succeeded') continue;
      const again = lines.filter((l) => l.key === key && l.runAttempt > attempt).length;
      if (again > 0) {
        reruns += again;
        problems.push(`${key} recorded succeeded at kill ${i + 1} (run attempt ${attempt}), ran again ${again}x`);
      }
    }
  });
  let twice = 0;
  let more = 0;
  for (const key of KEYS) if (!counts.has(key)) problems.push(`${key} never ran`);
  for (const [key, n] of counts) {
    if (!KEYS.includes(key)) problems.push(`unknown side effect ${key}`);
    const running = snapshots.filter((s) => s?.attempts.some((a) => a.key === key && a.status === 'running')).length;
    if (n > 1 + running) problems.push(`${key} ran ${n}x, running at ${running} kill(s)`);
    if (n === 2) twice++;
    if (n > 2) more++;
  }
  const check = existsSync(statePath(dir)) ? integrity(dir) : 'no state file';
  if (check !== 'ok') problems.push(`integrity_check: ${check}`);
  return { dir, kills, resumes, reruns, twice, more, integrityOk: check === 'ok', succeeded: last.code === 0, problems };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`soak: ${err.message}`);
    return 2;
  }
  if (!existsSync(join(root, 'dist', 'cli.cjs')) && !process.env['FLOW_CRASH_BIN']) {
    console.error('soak: flow is not built; run npm run build');
    return 2;
  }
  const started = Date.now();
  const baseDir = freshDir();
  const base = await runFlow(['run', 'w.yaml'], baseDir);
  if (base.code !== 0) {
    console.error(`soak: an uninterrupted run failed:\n${base.stderr}`);
    return 1;
  }
  const expected = JSON.parse(base.stdout);
  rmSync(baseDir, { recursive: true, force: true });
  console.log(`soak: ${opts.cycles} cycles, seed ${opts.seed}, ${FLOW_BIN}`);
  const random = seededRandom(opts.seed);
  const totals = { cycles: 0, succeeded: 0, kills: 0, resumes: 0, reruns: 0, twice: 0, more: 0, integrity: 0, noKill: 0, failed: 0 };
  for (let i = 1; i <= opts.cycles; i++) {
    const t = Date.now();
    const c = await cycle(random, expected);
    totals.cycles++;
    totals.succeeded += c.succeeded ? 1 : 0;
    totals.kills += c.kills;
    totals.resumes += c.resumes;
    totals.reruns += c.reruns;
    totals.twice += c.twice;
    totals.more += c.more;
    totals.integrity += c.integrityOk ? 1 : 0;
    if (c.kills === 0) totals.noKill++;
    const line = `cycle ${String(i).padStart(3)}: ${c.kills} kill(s), ${c.resumes} resume(s), ${c.twice} ran twice${c.more ? `, ${c.more} ran 3+ times` : ''}, ${Date.now() - t} ms`;
    if (c.problems.length > 0) {
      totals.failed++;
      console.log(`${line}  VIOLATION (kept: ${c.dir})\n  ${c.problems.join('\n  ')}`);
    } else {
      console.log(line);
      if (!opts.keep) rmSync(c.dir, { recursive: true, force: true });
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `\n${totals.succeeded}/${totals.cycles} resumed, ${totals.reruns} re-runs of succeeded steps, ${totals.twice} steps ran twice (interrupted while running)` +
      `${totals.more ? `, ${totals.more} ran 3+ times (interrupted at several kills)` : ''}, integrity ok ${totals.integrity}/${totals.cycles}`,
  );
  console.log(
    `${totals.kills} kills (${totals.kills - totals.cycles + totals.noKill} of resumes), ${totals.resumes} resumes, ${totals.noKill} cycle(s) finished before their kill; total ${seconds} s`,
  );
  return totals.failed === 0 && totals.succeeded === totals.cycles ? 0 : 1;
}

process.exitCode = await main();
