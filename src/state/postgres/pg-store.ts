import { LeaseLostError } from '../../model/errors.js';
import type { RunOwner } from '../../model/run.js';
import type { Workflow } from '../../model/workflow.js';
import { describeOwner, leaseTtlMs } from '../lease.js';
import { attemptEndValues, attemptValues, json, parse, type Row, resultValues, toOwner, toResult, toRun } from '../rows.js';
import type { Claim, RunStore, StoredStepResult } from '../run-store.js';
import { guardPg, openPgDatabase } from './pg-open.js';
import { LAST_EVENT_SEQ, RUN_TREE } from './pg-queries.js';
import { pgConcurrencySlots, pgRemoteAttempts } from './pg-remote.js';
import type { SqlValue } from './sync-client.js';

/** The advisory lock that orders the commits of events (an arbitrary constant of flow's). */
const EVENTS_LOCK = 0x666c6f77;
const INTERRUPTED = JSON.stringify({ class: 'interrupted', message: 'its driver stopped (a crash or a kill) while it ran' });

// The PostgreSQL adapter: the same records as the SQLite file, through one synchronous connection (sync-client.ts).
// Where SQLite's IMMEDIATE transaction locks the whole file, here a claim locks the run's row (FOR UPDATE) and the
// owner check that fences every write locks it against a claim until the write commits (FOR SHARE).
export function openPgStore(url: string): RunStore {
  const { client, shown } = openPgDatabase(url);
  let depth = 0;
  /** Whether the open transaction holds the events lock already. */
  let eventsLocked = false;
  const q = (sql: string, params?: readonly SqlValue[]) =>
    depth > 0 ? client.query(sql, params) : guardPg(shown, () => client.query(sql, params));
  const one = (sql: string, params?: readonly SqlValue[]): Row | undefined => q(sql, params).rows[0];
  // A write whose answer nobody reads: inside a transaction it goes with the next query (the COMMIT at the latest),
  // so a transaction of writes is one round trip to the server.
  const w = (sql: string, params?: readonly SqlValue[]): void => {
    if (depth > 0) client.defer(sql, params);
    else q(sql, params);
  };
  const ownerParams = (o: RunOwner | undefined) => [o?.host ?? null, o?.pid ?? null, o?.processStart ?? null, o?.token ?? null];

  const store: RunStore = {
    ...pgRemoteAttempts(q, w),
    ...pgConcurrencySlots(q, (fn) => store.transaction(fn)),
    createRun(run) {
      w(
        `INSERT INTO runs (id, workflow_name, workflow_path, definition, definition_hash, inputs, status, started_at, parent_run_id,
                           attempt, owner_host, owner_pid, owner_start, owner_token, heartbeat_at, lease_until, shape)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [
          run.id,
          run.workflowName,
          run.workflowPath,
          run.definition,
          run.definitionHash,
          json(run.inputs),
          run.status,
          run.startedAt,
          run.parentRunId ?? null,
          run.attempt,
          ...ownerParams(run.owner),
          run.heartbeatAt ?? null,
          run.heartbeatAt === undefined ? null : run.heartbeatAt + leaseTtlMs(),
          json(run.shape),
        ],
      );
    },
    claimRun(runId, owner, now, alive, rerunSucceeded = false): Claim {
      return store.transaction(() => {
        const row = one(`SELECT * FROM runs WHERE id = $1 FOR UPDATE`, [runId]);
        if (!row) return { kind: 'unknown' };
        const run = toRun(row);
        if (run.status === 'running' && run.owner && alive(run.owner, run.leaseUntil)) return { kind: 'owned', owner: run.owner };
        if (run.status === 'succeeded' && !rerunSucceeded) return { kind: 'succeeded', run };
        const endedAt = new Date(now).toISOString();
        const interrupted = q(
          `${RUN_TREE} UPDATE attempts SET status = 'interrupted', ended_at = $2, error = $3
           WHERE status = 'running' AND run_id IN (SELECT id FROM tree)`,
          [runId, endedAt, INTERRUPTED],
        ).rowCount;
        w(
          `${RUN_TREE} UPDATE runs SET status = 'interrupted', ended_at = $2, owner_pid = NULL, owner_host = NULL, owner_start = NULL,
             owner_token = NULL, lease_until = NULL
           WHERE status = 'running' AND id != $1 AND id IN (SELECT id FROM tree)`,
          [runId, endedAt],
        );
        w(
          `UPDATE runs SET status = 'running', attempt = attempt + 1, ended_at = NULL, outputs = NULL, error = NULL,
             owner_host = $2, owner_pid = $3, owner_start = $4, owner_token = $5, heartbeat_at = $6, lease_until = $7
           WHERE id = $1`,
          [runId, ...ownerParams(owner), now, now + leaseTtlMs()],
        );
        return { kind: 'claimed', run: toRun(one(`SELECT * FROM runs WHERE id = $1`, [runId])!), interrupted };
      });
    },
    heartbeat(runId, token, now) {
      q(`UPDATE runs SET heartbeat_at = $1, lease_until = $3 WHERE status = 'running' AND owner_token = $2`, [
        now,
        token,
        now + leaseTtlMs(),
      ]);
      return one(`SELECT owner_token FROM runs WHERE id = $1`, [runId])?.['owner_token'] === token;
    },
    assertOwner(runId, token) {
      const refuse = (row: Row | undefined) => {
        if (!row) return new LeaseLostError(`run ${runId} was removed from the state store while this process drove it; it stopped`);
        const owner = toOwner(row);
        const now = owner ? `${describeOwner(owner)} drives it now` : 'nobody drives it now';
        return new LeaseLostError(`this process no longer owns run ${runId} (${now}); it stopped without writing more`);
      };
      const sql = `SELECT owner_token, owner_host, owner_pid, owner_start FROM runs WHERE id = $1`;
      // Inside a transaction the row stays locked against a claim until this writer's records are committed; the
      // check goes with the writes, and a failed one stops them before they run.
      if (depth > 0) return client.defer(`${sql} FOR SHARE`, [runId], { column: 'owner_token', equals: token, fail: refuse });
      const row = one(sql, [runId]);
      if (row?.['owner_token'] !== token) throw refuse(row);
    },
    recordAttempt(a) {
      w(
        `INSERT INTO attempts (run_id, step_id, item, attempt, status, error, started_at, ended_at, delay_ms, ai, run_attempt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, (SELECT attempt FROM runs WHERE id = $1))
         ON CONFLICT (run_id, step_id, item, attempt) DO UPDATE SET status = excluded.status, started_at = excluded.started_at,
           run_attempt = excluded.run_attempt, error = excluded.error, ended_at = excluded.ended_at,
           delay_ms = excluded.delay_ms, ai = excluded.ai`,
        attemptValues(a),
      );
    },
    attemptFinished(a) {
      w(
        `UPDATE attempts SET status = $5, error = $6, ended_at = $7, delay_ms = $8, ai = $9
         WHERE run_id = $1 AND step_id = $2 AND item = $3 AND attempt = $4`,
        [a.runId, a.stepId, a.item, a.attempt, ...attemptEndValues(a)],
      );
    },
    stepFinished(runId, stepId, item, r) {
      w(
        `INSERT INTO steps (run_id, step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at, masked)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (run_id, step_id, item) DO UPDATE SET status = excluded.status, output = excluded.output,
           outputs = excluded.outputs, error = excluded.error, reason = excluded.reason, attempts = excluded.attempts,
           started_at = excluded.started_at, ended_at = excluded.ended_at, masked = excluded.masked`,
        resultValues(runId, stepId, item, r),
      );
    },
    appendLog(c) {
      w(
        `INSERT INTO logs (run_id, step_id, item, attempt, seq, stream, text, event_seq, time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (run_id, step_id, item, attempt, seq) DO UPDATE SET stream = excluded.stream, text = excluded.text,
           event_seq = excluded.event_seq, time = excluded.time`,
        [c.runId, c.stepId, c.item, c.attempt, c.seq, c.stream, c.text, c.eventSeq, c.time],
      );
    },
    appendEvent(runId, seq, type, line) {
      // Numbered and committed one writer at a time: an identity value is taken at INSERT but seen at COMMIT, and a
      // follower of every run's events (GET /events) that saw 101 committed before 100 would pass 100 by for good.
      // The lock is held until the commit: a transaction takes it with its first event only.
      if (depth > 0 && eventsLocked)
        return w(`INSERT INTO events (run_id, seq, type, line) VALUES ($1, $2, $3, $4)`, [runId, seq, type, line]);
      eventsLocked = depth > 0;
      w(
        `WITH turn AS (SELECT pg_advisory_xact_lock(${EVENTS_LOCK}))
         INSERT INTO events (run_id, seq, type, line) SELECT $1, $2, $3, $4 FROM turn`,
        [runId, seq, type, line],
      );
    },
    lastEventSeq(runId) {
      const row = one(LAST_EVENT_SEQ, [runId]);
      return Number(row?.['n'] ?? 0);
    },
    finishRun(runId, status, endedAt, outputs, error) {
      w(
        `UPDATE runs SET status = $2, ended_at = $3, outputs = $4, error = $5,
           owner_pid = NULL, owner_host = NULL, owner_start = NULL, owner_token = NULL, lease_until = NULL
         WHERE id = $1`,
        [runId, status, endedAt, json(outputs), json(error)],
      );
    },
    getRun(runId) {
      const row = one(`SELECT * FROM runs WHERE id = $1`, [runId]);
      return row ? toRun(row) : undefined;
    },
    lastAttempt(runId, stepId, item) {
      return Number(
        one(`SELECT max(attempt) AS n FROM attempts WHERE run_id = $1 AND step_id = $2 AND item = $3`, [runId, stepId, item])?.['n'] ?? 0,
      );
    },
    replaceDefinition(runId, definition, hash, shape) {
      w(`UPDATE runs SET definition = $1, definition_hash = $2, shape = $3 WHERE id = $4`, [
        definition,
        hash,
        JSON.stringify(shape),
        runId,
      ]);
    },
    saveModel(definitionHash, build, model) {
      w(`INSERT INTO workflow_models (definition_hash, build, model) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        definitionHash,
        build,
        JSON.stringify(model),
      ]);
    },
    loadModel(definitionHash, build) {
      const row = one(`SELECT model FROM workflow_models WHERE definition_hash = $1 AND build = $2`, [definitionHash, build]);
      return row ? (parse(row['model']) as Workflow) : undefined;
    },
    stepResults(runId): StoredStepResult[] {
      return q(
        `SELECT step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at, masked FROM steps WHERE run_id = $1`,
        [runId],
      ).rows.map((row) => ({ stepId: String(row['step_id']), item: Number(row['item']), result: toResult(row) }));
    },
    cacheGet(key, now) {
      const row = one(`SELECT value FROM cache WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)`, [key, now]);
      return row ? parse(row['value']) : undefined;
    },
    cachePut(key, value, expiresAt) {
      w(
        `INSERT INTO cache (key, value, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        [key, JSON.stringify(value), expiresAt ?? null],
      );
    },
    transaction(fn) {
      if (depth > 0) return fn();
      return guardPg(shown, () => {
        depth++;
        eventsLocked = false;
        try {
          return client.transaction(fn);
        } finally {
          depth--;
          eventsLocked = false;
        }
      });
    },
    close() {
      client.close();
    },
  };
  return store;
}
