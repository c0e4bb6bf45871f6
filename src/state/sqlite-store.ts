import type Database from 'better-sqlite3';
import { LeaseLostError } from '../model/errors.js';
import type { RunOwner, StepAttempt } from '../model/run.js';
import type { Workflow } from '../model/workflow.js';
import { describeOwner, leaseTtlMs } from './lease.js';
import type { Claim, RunStore, StoredStepResult } from './run-store.js';
import { type Durability, guardStateFile, openDatabase } from './sqlite-open.js';
import { sqliteConcurrencySlots, sqliteRemoteAttempts } from './sqlite-remote.js';
import { attemptEndValues, attemptValues, json, LAST_EVENT_SEQ, parse, type Row, resultValues, toOwner, toResult, toRun } from './rows.js';

const RESULT_COLUMNS = ['status', 'output', 'outputs', 'error', 'reason', 'attempts', 'started_at', 'ended_at', 'masked'] as const;

export interface SqliteStoreOptions {
  durability?: Durability;
  /** Only a file of this flow's schema: one of another is refused, not migrated. */
  current?: boolean;
}

// The SQLite adapter: WAL, short IMMEDIATE transactions, the file created 0600.
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): RunStore {
  const db = openDatabase(path, options.durability, { current: options.current });
  try {
    // A statement the file's schema cannot take (a table dropped by hand): one error naming the file, and the file let go.
    return guardStateFile(db, () => sqliteStore(db));
  } catch (err) {
    db.close();
    throw err;
  }
}

function sqliteStore(db: Database.Database): RunStore {
  // SQLite's own page cache of 2 MB, not the 16 MB better-sqlite3 builds it with: a run store (flow run, resume and
  // worker, the runs flow serve starts) appends records and seldom reads a page twice, and the larger cache only grew
  // with the file (a for_each of 100,000 items: 16-20 MB more at its peak). The history's readers keep the larger one.
  db.pragma('cache_size = -2000');
  const stmt = {
    createRun: db.prepare(
      `INSERT INTO runs (id, workflow_name, workflow_path, definition, definition_hash, inputs, status, started_at, parent_run_id,
                         attempt, owner_host, owner_pid, owner_start, owner_token, heartbeat_at, lease_until, shape)
       VALUES (@id, @workflowName, @workflowPath, @definition, @definitionHash, @inputs, @status, @startedAt, @parentRunId,
               @attempt, @host, @pid, @processStart, @token, @heartbeatAt, @leaseUntil, @shape)`,
    ),
    claim: db.prepare(
      `UPDATE runs SET status = 'running', attempt = attempt + 1, ended_at = NULL, outputs = NULL, error = NULL,
         owner_host = @host, owner_pid = @pid, owner_start = @processStart, owner_token = @token, heartbeat_at = @now,
         lease_until = @leaseUntil
       WHERE id = @runId`,
    ),
    // A crashed driver leaves attempts, and child runs of `workflow` steps, recorded as running: they were interrupted.
    orphans: db.prepare(
      `WITH RECURSIVE tree(id) AS (SELECT @runId UNION SELECT runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id)
       UPDATE attempts INDEXED BY attempts_running SET status = 'interrupted', ended_at = @endedAt,
         error = json_object('class', 'interrupted', 'message', 'its driver stopped (a crash or a kill) while it ran')
       WHERE status = 'running' AND run_id IN (SELECT id FROM tree)`,
    ),
    orphanRuns: db.prepare(
      `WITH RECURSIVE tree(id) AS (SELECT @runId UNION SELECT runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id)
       UPDATE runs SET status = 'interrupted', ended_at = @endedAt, owner_pid = NULL, owner_host = NULL, owner_start = NULL, owner_token = NULL,
         lease_until = NULL
       WHERE status = 'running' AND id != @runId AND id IN (SELECT id FROM tree)`,
    ),
    // Every run this owner drives (its child runs too) is alive while it is.
    // Through the status index: a file of 10,000 finished runs is not scanned at every heartbeat.
    heartbeat: db.prepare(
      `UPDATE runs SET heartbeat_at = @now, lease_until = @leaseUntil WHERE status = 'running' AND owner_token = @token`,
    ),
    owner: db.prepare(`SELECT owner_token, owner_host, owner_pid, owner_start FROM runs WHERE id = ?`),
    // The fence of every commit: the token alone, as a plain value; the owner is read in full only to name it.
    ownerToken: db.prepare(`SELECT owner_token FROM runs WHERE id = ?`).pluck(),
    // The writes of every step bind their values by position: by name, better-sqlite3 reads each from an object,
    // some 3 µs more per statement, and a run makes several per step.
    recordAttempt: db.prepare(
      `INSERT OR REPLACE INTO attempts (run_id, step_id, item, attempt, status, error, started_at, ended_at, delay_ms, ai, run_attempt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT attempt FROM runs WHERE id = ?))`,
    ),
    attemptFinished: db.prepare(
      `UPDATE attempts SET status = ?, error = ?, ended_at = ?, delay_ms = ?, ai = ?
       WHERE run_id = ? AND step_id = ? AND item = ? AND attempt = ?`,
    ),
    stepFinished: db.prepare(
      `INSERT OR REPLACE INTO steps (run_id, step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at, masked)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    appendLog: db.prepare(
      `INSERT OR REPLACE INTO logs (run_id, step_id, item, attempt, seq, stream, text, event_seq, time)
       VALUES (@runId, @stepId, @item, @attempt, @seq, @stream, @text, @eventSeq, @time)`,
    ),
    appendEvent: db.prepare(`INSERT INTO events (run_id, seq, type, line) VALUES (?, ?, ?, ?)`),
    lastEventSeq: db.prepare(LAST_EVENT_SEQ),
    finishRun: db.prepare(
      `UPDATE runs SET status = @status, ended_at = @endedAt, outputs = @outputs, error = @error,
         owner_pid = NULL, owner_host = NULL, owner_start = NULL, owner_token = NULL, lease_until = NULL
       WHERE id = @runId`,
    ),
    getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
    lastAttempt: db.prepare(`SELECT max(attempt) AS n FROM attempts WHERE run_id = ? AND step_id = ? AND item = ?`),
    replaceDefinition: db.prepare(`UPDATE runs SET definition = ?, definition_hash = ?, shape = ? WHERE id = ?`),
    saveModel: db.prepare(`INSERT OR IGNORE INTO workflow_models (definition_hash, build, model) VALUES (?, ?, ?)`),
    loadModel: db.prepare(`SELECT model FROM workflow_models WHERE definition_hash = ? AND build = ?`),
    // In key order: a resume keys them by step and item, so sorting 10,000 rows by time would be wasted.
    // Rows as arrays, only the columns a result needs: a resume of a long run reads thousands of them first.
    stepResults: db.prepare(`SELECT step_id, item, ${RESULT_COLUMNS.join(', ')} FROM steps WHERE run_id = ?`).raw(true),
    cacheGet: db.prepare(`SELECT value FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)`),
    cachePut: db.prepare(`INSERT OR REPLACE INTO cache (key, value, expires_at) VALUES (?, ?, ?)`),
  };
  const ownerParams = (o: RunOwner | undefined) => ({
    host: o?.host ?? null,
    pid: o?.pid ?? null,
    processStart: o?.processStart ?? null,
    token: o?.token ?? null,
  });
  // A write the disk or the file refuses becomes one error naming the file (SQLite rolled the transaction back).
  const guard = <T>(fn: () => T): T => guardStateFile(db, fn);
  const store: RunStore = {
    ...sqliteRemoteAttempts(db),
    ...sqliteConcurrencySlots(db),
    createRun(run) {
      stmt.createRun.run({
        ...run,
        inputs: json(run.inputs),
        parentRunId: run.parentRunId ?? null,
        heartbeatAt: run.heartbeatAt ?? null,
        leaseUntil: run.heartbeatAt === undefined ? null : run.heartbeatAt + leaseTtlMs(),
        shape: json(run.shape),
        ...ownerParams(run.owner),
      });
    },
    claimRun(runId, owner, now, alive, rerunSucceeded = false): Claim {
      return store.transaction(() => {
        const row = stmt.getRun.get(runId) as Row | undefined;
        if (!row) return { kind: 'unknown' };
        const run = toRun(row);
        if (run.status === 'running' && run.owner && alive(run.owner, run.leaseUntil)) return { kind: 'owned', owner: run.owner };
        if (run.status === 'succeeded' && !rerunSucceeded) return { kind: 'succeeded', run };
        const endedAt = new Date(now).toISOString();
        const interrupted = stmt.orphans.run({ runId, endedAt }).changes;
        stmt.orphanRuns.run({ runId, endedAt });
        stmt.claim.run({ runId, now, leaseUntil: now + leaseTtlMs(), ...ownerParams(owner) });
        return { kind: 'claimed', run: toRun(stmt.getRun.get(runId) as Row), interrupted };
      });
    },
    heartbeat(runId, token, now) {
      return guard(() => {
        stmt.heartbeat.run({ token, now, leaseUntil: now + leaseTtlMs() });
        return (stmt.owner.get(runId) as Row | undefined)?.['owner_token'] === token;
      });
    },
    assertOwner(runId, token) {
      if (stmt.ownerToken.get(runId) === token) return;
      const row = stmt.owner.get(runId) as Row | undefined;
      if (!row) throw new LeaseLostError(`run ${runId} was removed from the state file while this process drove it; it stopped`);
      const owner = toOwner(row);
      if (owner?.token !== token) {
        const now = owner ? `${describeOwner(owner)} drives it now` : 'nobody drives it now';
        throw new LeaseLostError(`this process no longer owns run ${runId} (${now}); it stopped without writing more`);
      }
    },
    recordAttempt(a: StepAttempt) {
      stmt.recordAttempt.run(...attemptValues(a), a.runId);
    },
    attemptFinished(a) {
      stmt.attemptFinished.run(...attemptEndValues(a), a.runId, a.stepId, a.item, a.attempt);
    },
    stepFinished(runId, stepId, item, r) {
      stmt.stepFinished.run(...resultValues(runId, stepId, item, r));
    },
    appendLog(chunk) {
      stmt.appendLog.run(chunk);
    },
    appendEvent(runId, seq, type, line) {
      stmt.appendEvent.run(runId, seq, type, line);
    },
    lastEventSeq(runId) {
      return Number((stmt.lastEventSeq.get({ runId }) as Row)['n'] ?? 0);
    },
    finishRun(runId, status, endedAt, outputs, error) {
      stmt.finishRun.run({ runId, status, endedAt, outputs: json(outputs), error: json(error) });
    },
    getRun(runId) {
      const row = stmt.getRun.get(runId) as Row | undefined;
      return row ? toRun(row) : undefined;
    },
    lastAttempt(runId, stepId, item) {
      return Number((stmt.lastAttempt.get(runId, stepId, item) as Row)['n'] ?? 0);
    },
    replaceDefinition(runId, definition, hash, shape) {
      guard(() => stmt.replaceDefinition.run(definition, hash, JSON.stringify(shape), runId));
    },
    saveModel(definitionHash, build, model) {
      guard(() => stmt.saveModel.run(definitionHash, build, JSON.stringify(model)));
    },
    loadModel(definitionHash, build) {
      const row = stmt.loadModel.get(definitionHash, build) as Row | undefined;
      return row ? (parse(row['model']) as Workflow) : undefined;
    },
    stepResults(runId): StoredStepResult[] {
      return (stmt.stepResults.all(runId) as unknown[][]).map(([stepId, item, ...values]) => ({
        stepId: String(stepId),
        item: Number(item),
        result: toResult({
          status: values[0],
          output: values[1],
          outputs: values[2],
          error: values[3],
          reason: values[4],
          attempts: values[5],
          started_at: values[6],
          ended_at: values[7],
          masked: values[8],
        }),
      }));
    },
    cacheGet(key, now) {
      const row = stmt.cacheGet.get(key, now) as Row | undefined;
      return row ? parse(row['value']) : undefined;
    },
    cachePut(key, value, expiresAt) {
      stmt.cachePut.run(key, JSON.stringify(value), expiresAt ?? null);
    },
    transaction(fn) {
      // IMMEDIATE: the write lock is taken at BEGIN, so a busy file waits there (busy timeout), never mid-transaction.
      return guard(() => db.transaction(fn).immediate());
    },
    close() {
      db.close();
    },
  };
  return store;
}
