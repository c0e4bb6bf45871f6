// Builds a state file holding many recorded runs quickly, by inserting rows directly (the schema is flow's own:
// the file is created and migrated by flow's store first), for benchmarks of the history commands.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateWorkflow } from './workflow-gen.mjs';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const DAY_MS = 86_400_000;

// A small deterministic generator (mulberry32), so every build of the file holds the same mix.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A run id as flow makes them: 10 base32 characters of the start time in ms, then 10 random ones.
function runId(ms, rnd) {
  let time = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  let tail = '';
  for (let i = 0; i < 10; i++) tail += ALPHABET[Math.floor(rnd() * 32)];
  return time + tail;
}

// A few workflows of 1-5 KB (the text a run keeps as its definition), each run by many runs.
function workflows() {
  return [4, 6, 8, 12, 16, 20, 24, 30].map((steps, i) => {
    const definition = generateWorkflow(steps).replace(`name: bench-${steps}`, `name: job-${i}`);
    return {
      name: `job-${i}`,
      path: `/srv/ci/workflows/job-${i}.yaml`,
      definition,
      hash: createHash('sha256').update(definition).digest('hex'),
      steps: Array.from({ length: steps }, (_, n) => `s${String(n + 1).padStart(4, '0')}`),
    };
  });
}

// The status a run is recorded with: mostly succeeded, some failed and interrupted, some left `running` by a driver
// that died (its pid gone, and a start time that matches no process), a few of those with a fresh heartbeat.
function pickStatus(rnd) {
  const r = rnd();
  if (r < 0.75) return 'succeeded';
  if (r < 0.87) return 'failed';
  if (r < 0.93) return 'interrupted';
  return 'running';
}

// A pid that no process has now; a process may take it later, but its start time will not be the recorded one.
function deadPid(rnd) {
  for (;;) {
    const pid = 2 + Math.floor(rnd() * 32000);
    try {
      process.kill(pid, 0);
    } catch (err) {
      if (err.code === 'ESRCH') return pid;
    }
  }
}

function statements(db) {
  return {
    run: db.prepare(
      `INSERT INTO runs (id, workflow_name, workflow_path, definition, definition_hash, inputs, status, started_at, ended_at, outputs, error,
                         parent_run_id, attempt, owner_host, owner_pid, owner_start, owner_token, heartbeat_at)
       VALUES (@id, @name, @path, @definition, @hash, @inputs, @status, @startedAt, @endedAt, @outputs, @error,
               @parent, @attempt, @host, @pid, @start, @token, @heartbeatAt)`,
    ),
    step: db.prepare(
      `INSERT INTO steps (run_id, step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at)
       VALUES (?, ?, 0, ?, ?, '{}', ?, NULL, 1, ?, ?)`,
    ),
    attempt: db.prepare(
      `INSERT INTO attempts (run_id, step_id, item, attempt, status, error, started_at, ended_at, delay_ms, run_attempt)
       VALUES (?, ?, 0, 1, ?, ?, ?, ?, NULL, 1)`,
    ),
    log: db.prepare(`INSERT INTO logs (run_id, step_id, item, attempt, seq, stream, text) VALUES (?, ?, 0, 1, 1, 'stdout', ?)`),
  };
}

// One run's row and its steps, attempts and output lines; returns what the run was recorded as.
function insertRun(stmt, rnd, wf, { id, startMs, status, parent, now, pids }) {
  const iso = (ms) => new Date(ms).toISOString();
  const stepMs = 200 + Math.floor(rnd() * 3000);
  const taken = status === 'succeeded' ? wf.steps.length : 1 + Math.floor(rnd() * (wf.steps.length - 1));
  const endMs = startMs + taken * stepMs;
  const failure = { class: 'exit:1', message: `'make test' exited with code 1` };
  const dead = status === 'running';
  // A driver that died in the last minute still has a fresh heartbeat: only its pid tells it is gone.
  const fresh = dead && rnd() < 0.05;
  stmt.run.run({
    id,
    name: wf.name,
    path: wf.path,
    definition: wf.definition,
    hash: wf.hash,
    inputs: JSON.stringify({ x: 'hello', count: 3 }),
    status,
    startedAt: iso(startMs),
    endedAt: dead ? null : iso(endMs),
    outputs: status === 'succeeded' ? JSON.stringify({ last: { label: `hello-${taken}`, index: taken, repeat: 6 } }) : null,
    error: status === 'failed' ? JSON.stringify(failure) : null,
    parent: parent ?? null,
    attempt: rnd() < 0.1 ? 2 : 1,
    host: dead ? (fresh || rnd() < 0.8 ? hostname() : 'ci-runner-7') : null,
    pid: dead ? deadPid(pids) : null,
    start: dead ? '1' : null,
    token: dead ? id.slice(10) : null,
    heartbeatAt: dead ? (fresh ? now : endMs) : null,
  });
  for (let n = 0; n < taken; n++) {
    const stepId = wf.steps[n];
    const last = n === taken - 1;
    const stepStatus = last && status === 'failed' ? 'failed' : last && status !== 'succeeded' ? 'interrupted' : 'succeeded';
    const error = stepStatus === 'succeeded' ? null : JSON.stringify(failure);
    const out = `hello:${n === 0 ? 'start' : wf.steps[n - 1]}`;
    const s = iso(startMs + n * stepMs);
    const e = iso(startMs + (n + 1) * stepMs);
    if (!(dead && last))
      stmt.step.run(id, stepId, stepStatus, JSON.stringify({ exit_code: 0, stdout: `${out}\n`, stderr: '' }), error, s, e);
    stmt.attempt.run(id, stepId, dead && last ? 'running' : stepStatus, error, s, dead && last ? null : e);
    stmt.log.run(id, stepId, out);
  }
}

/**
 * Creates `file` with `count` top-level recorded runs (newest `now`, oldest 90 days before), 3% of them with one
 * child run; returns the count of each status as recorded. `root` is the repository, whose dist/ creates the schema.
 */
export async function buildHistory(root, file, { count, now = Date.now(), seed = 1 }) {
  const { openSqliteStore } = await import(join(root, 'dist', 'index.mjs'));
  openSqliteStore(file).close();
  const db = new Database(file);
  const rnd = random(seed);
  const pids = random(seed + 1); // apart, so that which pids are free now does not change the rest of the file
  const stmt = statements(db);
  const wfs = workflows();
  const recorded = {};
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const startMs = now - 90 * DAY_MS + Math.floor(((i + rnd()) / count) * 90 * DAY_MS) - 60_000;
      const status = pickStatus(rnd);
      const wf = wfs[Math.floor(rnd() * wfs.length)];
      const id = runId(startMs, rnd);
      insertRun(stmt, rnd, wf, { id, startMs, status, now, pids });
      recorded[status] = (recorded[status] ?? 0) + 1;
      if (rnd() < 0.03)
        insertRun(stmt, rnd, wfs[0], { id: runId(startMs + 1, rnd), startMs: startMs + 1, status: 'succeeded', parent: id, now, pids });
    }
  })();
  // As flow leaves a file it has closed: everything in the main file.
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return recorded;
}
