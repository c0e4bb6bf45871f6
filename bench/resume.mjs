// Benchmarks of durable runs, each alternating with a bare `node -e 0` measured in the same run:
//   `flow resume` of a 10,000-step run with one step left: spawn -> the last step starts (target <= 300 ms);
//   `flow runs` over a state file of 10,000 recorded runs, end to end (target <= 300 ms).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildHistory } from './lib/history-gen.mjs';
import { copyBuild } from './lib/build-copy.mjs';
import { alternate, median, peakRssMb, timeOnce } from './lib/measure.mjs';

export const name = 'resume';
export const title = 'Durable runs';

const STEPS = 10_000;
const HISTORY_RUNS = 10_000;
const TARGET_MS = 300;
const FAILED = 1; // `flow run`'s exit code for a run that failed

// STEPS steps: transforms, each reading the one before it, a `true` shell step every 1,000th, and last a shell step
// that writes the wall-clock time it starts at (bash's $EPOCHREALTIME, no fork) and fails until the file `fixed` exists.
function resumeWorkflow(count) {
  const id = (n) => `s${String(n).padStart(5, '0')}`;
  const out = ['name: resume-bench', 'inputs:', '  x: { type: string, default: hello }', 'steps:'];
  let prev;
  for (let n = 1; n < count; n++) {
    if (n % 1000 === 0) {
      out.push(`  - id: ${id(n)}`, '    type: shell', '    config: { run: "true" }');
      continue;
    }
    const label = prev ? `\${{ steps.${prev}.output.label }}` : '${{ inputs.x }}';
    out.push(`  - id: ${id(n)}`, '    type: transform', '    config:', '      value:', `        index: ${n}`, `        label: "${label}"`);
    prev = id(n);
  }
  out.push(
    '  - id: last',
    '    type: shell',
    '    config:',
    '      run: |',
    '        echo "$EPOCHREALTIME" > started.txt',
    '        test -f fixed',
  );
  return `${out.join('\n')}\n`;
}

// The flow command line, run from `dir` with its own state file.
const flow = (root, dir, ...args) => ({
  cmd: process.execPath,
  args: [join(root, 'bin', 'flow.js'), ...args, '--state', 'state.db'],
  cwd: dir,
});

// Runs the workflow once (it fails at its last step) and keeps a copy of the state file as that run left it.
function failedRun(root, dir) {
  writeFileSync(join(dir, 'resume.yaml'), resumeWorkflow(STEPS));
  const { cmd, args, cwd } = flow(root, dir, 'run', 'resume.yaml');
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== FAILED) throw new Error(`the first run should fail at its last step, exit ${res.status}:\n${res.stderr.slice(-2000)}`);
  const db = new Database(join(dir, 'state.db'));
  const run = db.prepare(`SELECT id, status FROM runs WHERE parent_run_id IS NULL`).get();
  const done = db.prepare(`SELECT count(*) AS n FROM steps WHERE run_id = ? AND status = 'succeeded'`).get(run.id).n;
  // Everything in the main file, so one copy of it is the whole state.
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  if (run.status !== 'failed' || done !== STEPS - 1) throw new Error(`the first run left ${done} steps succeeded, run ${run.status}`);
  copyFileSync(join(dir, 'state.db'), join(dir, 'failed.db'));
  writeFileSync(join(dir, 'fixed'), '');
  return run.id;
}

// Puts the state file back as the failed run left it, and forgets the last resume's timestamp.
function restore(dir) {
  for (const f of ['state.db-wal', 'state.db-shm', 'started.txt']) rmSync(join(dir, f), { force: true });
  copyFileSync(join(dir, 'failed.db'), join(dir, 'state.db'));
}

// One timed resume: ms from spawning `flow resume` to the last step's start (both wall clock) and to its exit.
function timeResume(subject, dir) {
  restore(dir);
  const spawnedAt = Date.now();
  const total = timeOnce(subject);
  const stamp = readFileSync(join(dir, 'started.txt'), 'utf8').trim().replace(',', '.');
  return { start: Number(stamp) * 1000 - spawnedAt, total };
}

// Proves a resume ran only the last step: the run succeeded as its second attempt, and no other step ran again.
function checkResumed(dir, runId) {
  const db = new Database(join(dir, 'state.db'), { readonly: true });
  const run = db.prepare(`SELECT status, attempt FROM runs WHERE id = ?`).get(runId);
  const again = db.prepare(`SELECT step_id FROM attempts WHERE run_id = ? AND run_attempt = 2`).all(runId);
  db.close();
  if (run.status !== 'succeeded' || run.attempt !== 2 || again.length !== 1 || again[0].step_id !== 'last')
    throw new Error(`the resume did not run just the last step: run ${run.status} attempt ${run.attempt}, ran ${again.length}`);
}

// Alternates `node -e 0` and one timed call of `measure` (b, s, b, s, ...), after warm-ups; returns the samples of each.
function alternateWith(baseline, measure, { runs, warmups }) {
  const samples = { baseline: [], subject: [] };
  for (let i = 0; i < warmups + runs; i++) {
    const pair = [timeOnce(baseline), measure()];
    if (i < warmups) continue;
    samples.baseline.push(pair[0]);
    samples.subject.push(pair[1]);
  }
  return samples;
}

function resumeRows(root, dir, baseline, runs, log) {
  log(`resume: one failed ${STEPS.toLocaleString('en')}-step run...`);
  const runId = failedRun(root, dir);
  const subject = flow(root, dir, 'resume', runId);
  timeResume(subject, dir);
  checkResumed(dir, runId);
  log(`resume: ${runs} alternating resumes of run ${runId}...`);
  const s = alternateWith(baseline, () => timeResume(subject, dir), { runs, warmups: 1 });
  restore(dir);
  const rssMb = peakRssMb(subject);
  const base = median(s.baseline);
  const start = median(s.subject.map((x) => x.start));
  const total = median(s.subject.map((x) => x.total));
  return [
    row('resume 10,000 steps, 1 left: spawn → last step starts', start, base, `≤ ${TARGET_MS} ms`, start <= TARGET_MS, true, rssMb),
    row('resume 10,000 steps, 1 left: whole command', total, base, '(info)', undefined, false, rssMb),
  ];
}

// The JSON `flow runs --json` printed, checked: every run listed, none whose driver died shown as running.
function checkRunsJson(subject, expected) {
  const res = spawnSync(subject.cmd, subject.args, { cwd: subject.cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`flow runs exited with ${res.status}: ${res.stderr}`);
  const runs = JSON.parse(res.stdout);
  const running = runs.filter((r) => r.status === 'running').length;
  if (runs.length !== expected || running > 0) throw new Error(`flow runs --json listed ${runs.length} runs, ${running} of them running`);
}

async function historyRows(root, dir, baseline, runs, log) {
  log(`resume: a state file of ${HISTORY_RUNS.toLocaleString('en')} recorded runs...`);
  const file = join(dir, 'history.db');
  const recorded = await buildHistory(root, file, { count: HISTORY_RUNS });
  const cases = [
    ['`flow runs --json --limit 10000`, 10,000 runs', ['--json', '--limit', String(HISTORY_RUNS)]],
    ['`flow runs --json` (default: all), 10,000 runs', ['--json']],
    ['`flow runs` (text, default limit 20), 10,000 runs', []],
  ];
  const rows = [];
  for (const [label, flags] of cases) {
    const subject = { cmd: process.execPath, args: [join(root, 'bin', 'flow.js'), 'runs', ...flags, '--state', file], cwd: dir };
    if (flags.includes('--json')) checkRunsJson(subject, HISTORY_RUNS);
    log(`resume: ${label}, ${runs} alternating runs...`);
    const s = alternate(baseline, subject, { runs, warmups: 3 });
    const m = median(s.subject);
    rows.push(row(label, m, median(s.baseline), `≤ ${TARGET_MS} ms`, m <= TARGET_MS, true, peakRssMb(subject)));
  }
  return { rows, recorded };
}

function row(label, subjectMedian, baselineMedian, target, pass, formal, rssMb) {
  return {
    benchmark: name,
    case: label,
    subjectMedian,
    baselineMedian,
    ratio: subjectMedian / baselineMedian,
    target,
    result: pass === undefined ? '' : pass ? 'PASS' : 'FAIL',
    formal,
    rssMb,
  };
}

export async function run({ root, quick, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-resume-'));
  try {
    const loadBefore = loadAverage();
    // A copy of the build: others may rebuild dist/ during these minutes.
    const build = join(dir, 'build');
    const stamp = copyBuild(root, build, log);
    const baseline = { cmd: process.execPath, args: ['-e', '0'], cwd: dir };
    const resume = resumeRows(build, dir, baseline, quick ? 3 : 11, log);
    const history = await historyRows(build, dir, baseline, quick ? 5 : 21, log);
    const load = `${loadBefore} before, ${loadAverage()} after`;
    return { rows: [...resume, ...history.rows], notes: notes(history.recorded, load, stamp) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The 1-minute load average (other jobs share this machine), or '?' where there is no /proc.
function loadAverage() {
  return existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').split(' ')[0] : '?';
}

function notes(recorded, load, stamp) {
  const mix = Object.entries(recorded)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  return [
    '`node -e 0` is the baseline, alternating with each subject (the ratio shows how far from bare node start-up a figure is;',
    'the targets are in ms). Wall time per process, stdio ignored.',
    '',
    `Resume: \`flow run\` of a generated ${STEPS.toLocaleString('en')}-step workflow (about 1.3 MB of block-style YAML: transforms, each reading`,
    "the previous one's output, a `true` shell step every 1,000th) fails at its last step, a shell step that first writes",
    "bash's `$EPOCHREALTIME` and then fails until a file `fixed` exists. The state file is checkpointed and copied; each sample",
    'restores the copy and times `flow resume ID --state state.db` from `Date.now()` just before the spawn to the time the last',
    "step wrote (the same wall clock; it includes the start of that step's bash), and to the exit. After the first resume the",
    'record is checked: the run succeeded as attempt 2 and only `last` has an attempt of run attempt 2. Peak RSS: one resume',
    'under /usr/bin/time.',
    '',
    `History: \`bench/lib/history-gen.mjs\` creates the file with flow's store (its migrations), then inserts ${HISTORY_RUNS.toLocaleString('en')}`,
    'top-level runs over 90 days, each with a 1-5 KB definition, its steps, attempts and one output line per step, and a child',
    'run for 3% of them; the `running` ones have a dead driver (pid gone), so flow shows them as interrupted.',
    `Recorded: ${mix}.`,
    '`--json` output is checked once (10,000 runs, none shown as running) before the timed runs.',
    '',
    `Build measured: a copy (bench/lib/build-copy.mjs) of dist/ whose cli.cjs is of ${stamp}. Load average (1 min) of this`,
    `2-vCPU machine, which other jobs share: ${load}.`,
  ].join('\n');
}
