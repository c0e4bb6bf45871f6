// `node step-floor.mjs BUILD STATE N`: the least a shell step costs in flow's design, none of flow's own code run. For
// each of N steps: one IMMEDIATE transaction with the statements flow commits for a finished step and the next one's
// attempt (the owner check, the attempt's end, the result, two event lines, the new attempt), two progress lines on
// stderr, and one `true` started through flow's native launcher (BUILD/dist/flow-launcher), whose pid, exit code and
// end-of-output sentinels are read back. STATE is a state file flow made (its schema). bench/perf.mjs times it as it
// times flow's 1,000-step and 1-step runs: what flow spends per step beyond this floor is its engine's.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [build, stateFile, count] = process.argv.slice(2);
const Database = createRequire(join(build, 'package.json'))('better-sqlite3');
const db = new Database(stateFile);
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
db.pragma('cache_size = -2000');
const runId = `floor-${process.pid}`;
db.prepare(
  `INSERT INTO runs (id, workflow_name, workflow_path, definition, definition_hash, inputs, status, started_at, owner_token)
   VALUES (?, 'floor', 'floor.yaml', '', '', '{}', 'running', ?, 'token')`,
).run(runId, new Date().toISOString());
const owner = db.prepare('SELECT owner_token FROM runs WHERE id = ?').pluck();
const attemptStarted = db.prepare(
  `INSERT OR REPLACE INTO attempts (run_id, step_id, item, attempt, status, error, started_at, ended_at, delay_ms, ai, run_attempt)
   VALUES (?, ?, -1, 1, 'running', NULL, ?, NULL, NULL, NULL, (SELECT attempt FROM runs WHERE id = ?))`,
);
const attemptEnded = db.prepare(
  `UPDATE attempts SET status = 'succeeded', error = NULL, ended_at = ?, delay_ms = NULL, ai = NULL
   WHERE run_id = ? AND step_id = ? AND item = -1 AND attempt = 1`,
);
const stepEnded = db.prepare(
  `INSERT OR REPLACE INTO steps (run_id, step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at, masked)
   VALUES (?, ?, -1, 'succeeded', ?, '{}', NULL, NULL, 1, ?, ?, 0)`,
);
const event = db.prepare('INSERT INTO events (run_id, seq, type, line) VALUES (?, ?, ?, ?)');

const sentinel = `\u0001flow-step-end-${process.pid}\u0002`;
const launcher = spawn(join(build, 'dist', 'flow-launcher'), [], { stdio: ['pipe', 'pipe', 'ignore', 'pipe', 'pipe'], detached: true });
const [input, stdout, , control, stderr] = launcher.stdio;
input.write(`${sentinel}\n`);
let step;
// The step's end: its exit code, and the sentinel on each output stream.
const note = (key, value) => {
  step[key] = value;
  if (step.exit !== undefined && step.out && step.err) step.done(step.exit);
};
stdout.setEncoding('utf8').on('data', (t) => t.includes(sentinel) && note('out', true));
stderr.setEncoding('utf8').on('data', (t) => t.includes(sentinel) && note('err', true));
let pending = '';
control.setEncoding('utf8').on('data', (t) => {
  pending += t;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const [kind, value] = pending.slice(0, nl).split(' ');
    pending = pending.slice(nl + 1);
    if (kind === 'pid') step.pid = Number(value);
    else if (kind === 'exit') note('exit', Number(value));
  }
});
const start = (i) =>
  new Promise((done) => {
    step = { done };
    const body = `C${process.cwd()}\nP/bin/true\nEFLOW_OUTPUT=/tmp/floor-${process.pid}-${i}\nAtrue\n`;
    input.write(`${Buffer.byteLength(body)}\n${body}`);
  });

let seq = 0;
for (let i = 0; i < Number(count); i++) {
  const at = new Date().toISOString();
  const started = JSON.stringify({
    schema_version: 1,
    type: 'step-started',
    time: at,
    run_id: runId,
    step_id: `s${i}`,
    item: -1,
    attempt: 1,
  });
  db.transaction(() => {
    owner.get(runId);
    if (i > 0) {
      const result = { status: 'succeeded', output: { exit_code: 0, stdout: '', stderr: '' }, started_at: at, ended_at: at };
      attemptEnded.run(at, runId, `s${i - 1}`);
      stepEnded.run(runId, `s${i - 1}`, JSON.stringify(result.output), at, at);
      event.run(
        runId,
        ++seq,
        'step-finished',
        JSON.stringify({ type: 'step-finished', time: at, run_id: runId, step_id: `s${i - 1}`, result }),
      );
    }
    attemptStarted.run(runId, `s${i}`, at, runId);
    event.run(runId, ++seq, 'step-started', started);
  }).immediate();
  process.stderr.write(`${at.slice(11, 23)} [s${i}] started\n`);
  const exitCode = await start(i);
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} [s${i}] ${exitCode === 0 ? 'succeeded' : 'failed'} in 1ms\n`);
}
// Waited for, so that GNU time counts the launcher and its programs.
const ended = new Promise((resolve) => launcher.on('exit', resolve));
input.end();
await ended;
db.close();
