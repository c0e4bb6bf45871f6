import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { RunRecord, RunStatus, StepAttempt, StepError, StepResult } from '../model/run.js';
import { StateFileError } from '../model/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import type { RunStore, StoredStepResult } from './run-store.js';

type Row = Record<string, unknown>;
const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : undefined);
const optional = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// The SQLite adapter: WAL, one short synchronous statement per state change, the file created 0600.
export function openSqliteStore(path: string): RunStore {
  const db = openDatabase(path);
  const stmt = {
    createRun: db.prepare(
      `INSERT INTO runs (id, workflow_name, workflow_path, definition, definition_hash, inputs, status, started_at, parent_run_id, owner_pid)
       VALUES (@id, @workflowName, @workflowPath, @definition, @definitionHash, @inputs, @status, @startedAt, @parentRunId, @pid)`,
    ),
    attemptStarted: db.prepare(
      `INSERT OR REPLACE INTO attempts (run_id, step_id, item, attempt, status, started_at) VALUES (@runId, @stepId, @item, @attempt, @status, @startedAt)`,
    ),
    attemptFinished: db.prepare(
      `UPDATE attempts SET status = @status, error = @error, ended_at = @endedAt, delay_ms = @delayMs WHERE run_id = @runId AND step_id = @stepId AND item = @item AND attempt = @attempt`,
    ),
    stepFinished: db.prepare(
      `INSERT OR REPLACE INTO steps (run_id, step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at)
       VALUES (@runId, @stepId, @item, @status, @output, @outputs, @error, @reason, @attempts, @startedAt, @endedAt)`,
    ),
    finishRun: db.prepare(
      `UPDATE runs SET status = @status, ended_at = @endedAt, outputs = @outputs, error = @error, owner_pid = NULL WHERE id = @runId`,
    ),
    getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
    stepResults: db.prepare(`SELECT * FROM steps WHERE run_id = ? ORDER BY started_at, step_id, item`),
    attempts: db.prepare(`SELECT * FROM attempts WHERE run_id = ? ORDER BY started_at, step_id, item, attempt`),
    listRuns: db.prepare(`SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?`),
    cacheGet: db.prepare(`SELECT value FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`),
    cachePut: db.prepare(`INSERT OR REPLACE INTO cache (key, value, expires_at) VALUES (?, ?, ?)`),
  };
  return {
    createRun(run) {
      stmt.createRun.run({ ...run, inputs: json(run.inputs), parentRunId: run.parentRunId ?? null, pid: process.pid });
    },
    attemptStarted(a) {
      stmt.attemptStarted.run({
        runId: a.runId,
        stepId: a.stepId,
        item: a.item,
        attempt: a.attempt,
        status: a.status,
        startedAt: a.startedAt,
      });
    },
    attemptFinished(a) {
      stmt.attemptFinished.run({
        runId: a.runId,
        stepId: a.stepId,
        item: a.item,
        attempt: a.attempt,
        status: a.status,
        error: json(a.error),
        endedAt: a.endedAt ?? null,
        delayMs: a.delayMs ?? null,
      });
    },
    stepFinished(runId, stepId, item, r) {
      stmt.stepFinished.run({
        runId,
        stepId,
        item,
        status: r.status,
        output: json(r.output),
        outputs: json(r.outputs),
        error: json(r.error),
        reason: r.reason ?? null,
        attempts: r.attempts,
        startedAt: r.startedAt,
        endedAt: r.endedAt ?? null,
      });
    },
    finishRun(runId, status: RunStatus, endedAt, outputs, error: StepError | undefined) {
      stmt.finishRun.run({ runId, status, endedAt, outputs: json(outputs), error: json(error) });
    },
    getRun(runId) {
      const row = stmt.getRun.get(runId) as Row | undefined;
      return row ? toRun(row) : undefined;
    },
    stepResults(runId): StoredStepResult[] {
      return (stmt.stepResults.all(runId) as Row[]).map((row) => ({
        stepId: String(row['step_id']),
        item: Number(row['item']),
        result: toResult(row),
      }));
    },
    attempts(runId): StepAttempt[] {
      return (stmt.attempts.all(runId) as Row[]).map(toAttempt);
    },
    listRuns(limit) {
      return (stmt.listRuns.all(limit) as Row[]).map(toRun);
    },
    cacheGet(key, now) {
      const row = stmt.cacheGet.get(key, now) as Row | undefined;
      return row ? parse(row['value']) : undefined;
    },
    cachePut(key, value, expiresAt) {
      stmt.cachePut.run(key, JSON.stringify(value), expiresAt ?? null);
    },
    transaction(fn) {
      return db.transaction(fn)();
    },
    close() {
      db.close();
    },
  };
}

function openDatabase(path: string): Database.Database {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is 0600 from its first byte; SQLite gives -wal and -shm the same mode.
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    const db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    if (err instanceof StateFileError) throw err;
    throw new StateFileError(path, err instanceof Error ? err.message : String(err));
  }
}

function migrate(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > SCHEMA_VERSION)
    throw new StateFileError(db.name, `it was written by a newer flow (schema ${version}; this flow knows ${SCHEMA_VERSION})`);
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function toRun(row: Row): RunRecord {
  return {
    id: String(row['id']),
    workflowName: String(row['workflow_name']),
    workflowPath: String(row['workflow_path']),
    definition: String(row['definition']),
    definitionHash: String(row['definition_hash']),
    inputs: (parse(row['inputs']) as Record<string, unknown>) ?? {},
    status: row['status'] as RunStatus,
    startedAt: String(row['started_at']),
    endedAt: optional(row['ended_at']),
    outputs: parse(row['outputs']) as Record<string, unknown> | undefined,
    error: parse(row['error']) as StepError | undefined,
    parentRunId: optional(row['parent_run_id']),
  };
}

function toResult(row: Row): StepResult {
  return {
    status: row['status'] as StepResult['status'],
    output: parse(row['output']),
    outputs: (parse(row['outputs']) as Record<string, unknown>) ?? {},
    error: parse(row['error']) as StepError | undefined,
    reason: optional(row['reason']),
    attempts: Number(row['attempts']),
    startedAt: String(row['started_at']),
    endedAt: optional(row['ended_at']),
  };
}

function toAttempt(row: Row): StepAttempt {
  return {
    runId: String(row['run_id']),
    stepId: String(row['step_id']),
    item: Number(row['item']),
    attempt: Number(row['attempt']),
    status: row['status'] as StepAttempt['status'],
    error: parse(row['error']) as StepError | undefined,
    startedAt: String(row['started_at']),
    endedAt: optional(row['ended_at']),
    delayMs: typeof row['delay_ms'] === 'number' ? row['delay_ms'] : undefined,
  };
}
