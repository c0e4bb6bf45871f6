import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FLOW_BIN } from './cli.js';

// Crash tests: the built CLI as a child process, killed for real (by a failpoint inside it, or by a signal from
// here at a delay or when a marker appears), then `flow resume` until the run is done. What every execution of a
// step did outside flow is one line in side.log, `<key> <run attempt>`, so duplicates are counted, not guessed.

/** The side-effect file every workflow of these tests appends to, in the run's directory. */
export const SIDE_LOG = 'side.log';

/**
 * A shell snippet appending one line for this execution: `<key> <run attempt>`. `key` is the step id, or for a
 * for_each item `id[${{ index }}]`, which is the key flow's record gives it (see stateKey).
 */
export const sideEffect = (key: string) => `echo "${key} \${{ run.attempt }}" >> ${SIDE_LOG}`;

/** When to stop a process: after the run's first line (`started` or `resuming`), once `when` holds, plus `afterMs`. */
export interface KillPlan {
  /** SIGKILL unless told. */
  signal?: NodeJS.Signals;
  afterMs?: number;
  /** A marker in the run's directory, polled every few milliseconds. */
  when?: (dir: string) => boolean;
  /** Another signal once this one is sent (and its own `when` holds): a second Ctrl-C. */
  then?: KillPlan;
}

export interface CrashOptions {
  /** The workflow's YAML, written to w.yaml in a fresh temp dir. */
  workflow: string;
  /** FLOW_FAILPOINT of the first `flow run` only (`name` or `name@N`). */
  failpoint?: string;
  /** A kill of the first `flow run` from outside. */
  kill?: KillPlan;
  /** FLOW_FAILPOINT per resume, in order. */
  resumeFailpoints?: (string | undefined)[];
  /** A kill plan per resume, in order; a resume without one runs to its end. */
  resumeKills?: (KillPlan | undefined)[];
  /** Called before each resume (i from 0), e.g. to open a gate the interrupted steps waited on. */
  beforeResume?: (dir: string, i: number) => void;
  /** The most resumes tried (default 5). */
  maxResumes?: number;
  /** More environment for every flow process. */
  env?: Record<string, string>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The signal this helper sent, if it sent one before the process ended. */
  sent: NodeJS.Signals | undefined;
  ms: number;
}

export interface AttemptRow {
  key: string;
  attempt: number;
  status: string;
  runAttempt: number;
}

/** What the state file held at one moment, read with a read-only connection. */
export interface Snapshot {
  run: { id: string; status: string; attempt: number; outputs: unknown } | undefined;
  /** key (`id`, or `id[item]` for a for_each item) -> status, from the steps table. */
  steps: Map<string, string>;
  attempts: AttemptRow[];
}

export interface SideLine {
  key: string;
  runAttempt: number;
}

export interface CrashResult {
  dir: string;
  runId: string | undefined;
  first: Exit;
  resumes: Exit[];
  /** One per process that was stopped (the first run, then each killed resume), read before the next resume. */
  snapshots: Snapshot[];
  final: Snapshot;
  side: SideLine[];
  integrity: string;
}

/** The CLI these tests run: bin/flow.js, or FLOW_CRASH_BIN (a copy of a build, e.g. while dist/ is being rebuilt). */
export const CRASH_BIN = process.env['FLOW_CRASH_BIN'] ?? FLOW_BIN;

export const statePathIn = (dir: string) => join(dir, '.flow', 'state.db');

/** A for_each item's key as the state file has it. */
export const stateKey = (stepId: string, item: number) => (item < 0 ? stepId : `${stepId}[${item}]`);

/** Runs `flow run w.yaml` in a fresh dir, stops it as told, then resumes (bounded) until a resume ends on its own. */
export async function crashAndResume(options: CrashOptions): Promise<CrashResult> {
  const dir = mkdtempSync(join(tmpdir(), 'flow-crash-'));
  writeFileSync(join(dir, 'w.yaml'), options.workflow);
  const first = await runFlow(['run', 'w.yaml'], dir, options.failpoint, options.kill, options.env);
  const runId = /^(?:[\d:.]+ )?flow: run (\S+) started/m.exec(first.stderr)?.[1] ?? readState(dir)?.run?.id;
  const snapshots: Snapshot[] = [];
  const resumes: Exit[] = [];
  let last = first;
  const maxResumes = options.maxResumes ?? 5;
  // Resume while the last process was stopped (by a failpoint or by us); any other end is the result.
  while (runId !== undefined && stopped(last) && resumes.length < maxResumes) {
    snapshots.push(readState(dir)!);
    options.beforeResume?.(dir, resumes.length);
    last = await runFlow(
      ['resume', runId],
      dir,
      options.resumeFailpoints?.[resumes.length],
      options.resumeKills?.[resumes.length],
      options.env,
    );
    resumes.push(last);
  }
  // Steps orphaned by a SIGKILL may still be running: count what they did once they are gone.
  await waitUntilQuiet(dir);
  return {
    dir,
    runId,
    first,
    resumes,
    snapshots,
    final: readState(dir) ?? { run: undefined, steps: new Map(), attempts: [] },
    side: readSide(dir),
    integrity: integrityCheck(dir),
  };
}

/** The process died by SIGKILL, or ended on a SIGINT/SIGTERM we sent (exit 130/143). */
function stopped(e: Exit): boolean {
  return e.signal === 'SIGKILL' || (e.sent !== undefined && (e.code === 130 || e.code === 143 || e.signal !== null));
}

const HUNG_MS = 40_000;

/** The built CLI as a child of this process; `plan` kills it from outside. */
export function runFlow(
  args: string[],
  dir: string,
  failpoint?: string,
  plan?: KillPlan,
  more: Record<string, string> = {},
): Promise<Exit> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...more };
  delete env['FLOW_FAILPOINT'];
  delete env['FLOW_STATE'];
  if (failpoint) env['FLOW_FAILPOINT'] = failpoint;
  const started = Date.now();
  const child = spawn(process.execPath, [CRASH_BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let sent: NodeJS.Signals | undefined;
  let exited = false;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let poll: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (p: KillPlan) => {
    poll = setInterval(() => {
      // The run exists once its first line is out; a kill before that would test nothing about resuming.
      if (!/^(?:[\d:.]+ )?flow: (run \S+ started|resuming run)/m.test(stderr)) return;
      if (p.when && !p.when(dir)) return;
      clearInterval(poll);
      timer = setTimeout(() => {
        if (exited) return;
        sent = p.signal ?? 'SIGKILL';
        child.kill(sent);
        if (p.then) arm(p.then);
      }, p.afterMs ?? 0);
    }, 3);
  };
  if (plan) arm(plan);
  // A hung flow is a failure to report, not a test to time out with a process left behind.
  const hung = setTimeout(() => child.kill('SIGKILL'), HUNG_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      clearInterval(poll);
      clearTimeout(timer);
      clearTimeout(hung);
      // Output still in the pipes comes before 'close'; do not wait for it forever (a grandchild could hold them).
      const done = () => resolve({ code, signal, stdout, stderr, sent, ms: Date.now() - started });
      const cap = setTimeout(done, 2000);
      child.on('close', () => {
        clearTimeout(cap);
        done();
      });
    });
  });
}

/** The state file as it is now, or undefined when there is none yet. */
export function readState(dir: string): Snapshot | undefined {
  const path = statePathIn(dir);
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const run = db.prepare('SELECT id, status, attempt, outputs FROM runs WHERE parent_run_id IS NULL ORDER BY started_at LIMIT 1').get() as
      | { id: string; status: string; attempt: number; outputs: string | null }
      | undefined;
    if (!run) return { run: undefined, steps: new Map(), attempts: [] };
    const steps = db.prepare('SELECT step_id, item, status FROM steps WHERE run_id = ?').all(run.id) as {
      step_id: string;
      item: number;
      status: string;
    }[];
    const attempts = db.prepare('SELECT step_id, item, attempt, status, run_attempt FROM attempts WHERE run_id = ?').all(run.id) as {
      step_id: string;
      item: number;
      attempt: number;
      status: string;
      run_attempt: number;
    }[];
    return {
      run: { ...run, outputs: run.outputs === null ? undefined : JSON.parse(run.outputs) },
      steps: new Map(steps.map((s) => [stateKey(s.step_id, s.item), s.status])),
      attempts: attempts.map((a) => ({
        key: stateKey(a.step_id, a.item),
        attempt: a.attempt,
        status: a.status,
        runAttempt: a.run_attempt,
      })),
    };
  } finally {
    db.close();
  }
}

export function integrityCheck(dir: string): string {
  const db = new Database(statePathIn(dir), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check).join('\n');
  } finally {
    db.close();
  }
}

export function readSide(dir: string): SideLine[] {
  const path = join(dir, SIDE_LOG);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [key, attempt] = l.split(' ');
      return { key: key!, runAttempt: Number(attempt) };
    });
}

/** A marker: side.log has `times` lines (default 1) for `key`, or with a number as `key`, that many lines in all. */
export const sideHas =
  (key: string | number, times = 1) =>
  (dir: string): boolean => {
    const side = readSide(dir);
    return typeof key === 'number' ? side.length >= key : side.filter((l) => l.key === key).length >= times;
  };

export function countByKey(side: readonly SideLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of side) counts.set(l.key, (counts.get(l.key) ?? 0) + 1);
  return counts;
}

/** Waits until no process has `dir` as its working directory (steps a killed flow left running), at most `ms`. */
export async function waitUntilQuiet(dir: string, ms = 15_000): Promise<void> {
  const real = realpathSync(dir);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!processesIn(real)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`processes still running in ${dir} after ${ms} ms`);
}

function processesIn(real: string): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === real) return true;
    } catch {
      // gone, or not ours to read
    }
  }
  return false;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same kill times. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The crash-safety violations in a result, as messages (empty when there are none), measured against the side
 * effects of an uninterrupted run of the same workflow (`expectedKeys`, each once):
 * - every key ran at least once, and no key ran that should not;
 * - a key recorded as succeeded when a process was stopped has no line from a later run attempt (never re-run);
 * - a key ran at most 1 + (the number of stops it was running at) times (at-least-once, and no more);
 * - a key that no stop found running ran exactly once.
 */
export function violations(r: CrashResult, expectedKeys: readonly string[]): string[] {
  const problems: string[] = [];
  const counts = countByKey(r.side);
  for (const key of expectedKeys) if (!counts.has(key)) problems.push(`${key} never ran`);
  for (const key of counts.keys()) if (!expectedKeys.includes(key)) problems.push(`${key} ran, and an uninterrupted run has no such step`);
  r.snapshots.forEach((snap, i) => {
    const attempt = snap.run?.attempt ?? 1;
    for (const [key, status] of snap.steps) {
      if (status !== 'succeeded') continue;
      const later = r.side.filter((l) => l.key === key && l.runAttempt > attempt).length;
      if (later > 0)
        problems.push(`${key} was recorded succeeded at stop ${i + 1} (run attempt ${attempt}) and ran again ${later} time(s)`);
    }
  });
  for (const [key, n] of counts) {
    const interrupted = r.snapshots.filter((snap) => runningAt(snap, key)).length;
    if (n > 1 + interrupted) problems.push(`${key} ran ${n} times; it was running at ${interrupted} stop(s)`);
  }
  return problems;
}

/** The key had an attempt running (or interrupted by a signal) in the run attempt that was just stopped. */
export function runningAt(snap: Snapshot, key: string): boolean {
  const attempt = snap.run?.attempt ?? 1;
  return snap.attempts.some((a) => a.key === key && (a.status === 'running' || (a.status === 'interrupted' && a.runAttempt === attempt)));
}
