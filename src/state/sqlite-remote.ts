import type Database from 'better-sqlite3';
import type { ConcurrencySlotStore } from './concurrency-slots.js';
import type { RemoteAttemptStore } from './remote-attempts.js';
import { REMOTE_COLUMNS, resultRows, toRemoteAttempt } from './remote-rows.js';
import type { Row } from './rows.js';

// The state file's record of attempts run by workers (workers on this host share the file).
export function sqliteRemoteAttempts(db: Database.Database): RemoteAttemptStore {
  const stmt = {
    queue: db.prepare(
      `INSERT OR IGNORE INTO remote_attempts (job_id, run_id, step_id, item, attempt, state, scope, queued_at)
       VALUES (@jobId, @runId, @stepId, @item, @attempt, 'queued', @scope, @now)`,
    ),
    claim: db.prepare(
      `UPDATE remote_attempts SET state = 'claimed', token = @token, worker = @worker, until = @until
       WHERE job_id IN (SELECT value FROM json_each(@ids)) AND state = 'queued' RETURNING ${REMOTE_COLUMNS}`,
    ),
    renew: db.prepare(
      `UPDATE remote_attempts SET until = @until
       WHERE job_id IN (SELECT value FROM json_each(@ids)) AND state = 'claimed' AND token = @token RETURNING job_id`,
    ),
    finish: db.prepare(
      `UPDATE remote_attempts SET state = 'done', result = v.result
       FROM (SELECT json_extract(value, '$.job_id') AS job_id, json_extract(value, '$.token') AS token,
               json_extract(value, '$.result') AS result FROM json_each(@results)) AS v
       WHERE remote_attempts.job_id = v.job_id AND remote_attempts.state = 'claimed' AND remote_attempts.token = v.token
       RETURNING remote_attempts.job_id`,
    ),
    revoke: db.prepare(`UPDATE remote_attempts SET state = 'revoked' WHERE job_id = ? AND state IN ('queued', 'claimed')`),
    get: db.prepare(`SELECT ${REMOTE_COLUMNS} FROM remote_attempts WHERE job_id IN (SELECT value FROM json_each(?))`),
    settled: db.prepare(
      `SELECT ${REMOTE_COLUMNS} FROM remote_attempts WHERE job_id IN (SELECT value FROM json_each(?)) AND state IN ('done', 'revoked')`,
    ),
  };
  return {
    queueRemote(a, now) {
      stmt.queue.run({ ...a, scope: JSON.stringify(a.scope), now });
    },
    claimRemote(jobIds, token, worker, until) {
      return (stmt.claim.all({ ids: JSON.stringify(jobIds), token, worker, until }) as Row[]).map(toRemoteAttempt);
    },
    renewRemote(jobIds, token, until) {
      return (stmt.renew.all({ ids: JSON.stringify(jobIds), token, until }) as Row[]).map((r) => String(r['job_id']));
    },
    finishRemote(results) {
      const rows = stmt.finish.all({ results: resultRows(results) }) as Row[];
      return rows.map((r) => String(r['job_id']));
    },
    revokeRemote(jobId) {
      return db.transaction(() => {
        stmt.revoke.run(jobId);
        const row = stmt.get.get(JSON.stringify([jobId])) as Row | undefined;
        return row ? toRemoteAttempt(row) : undefined;
      })();
    },
    remoteAttempts(jobIds) {
      return (stmt.get.all(JSON.stringify(jobIds)) as Row[]).map(toRemoteAttempt);
    },
    settledRemote(jobIds) {
      return (stmt.settled.all(JSON.stringify(jobIds)) as Row[]).map(toRemoteAttempt);
    },
  };
}

// The state file's concurrency slots (processes on this host share the file): a take is one IMMEDIATE transaction.
export function sqliteConcurrencySlots(db: Database.Database): ConcurrencySlotStore {
  const stmt = {
    expire: db.prepare(`DELETE FROM concurrency_slots WHERE key = ? AND until < ?`),
    count: db.prepare(`SELECT count(*) AS n FROM concurrency_slots WHERE key = ? AND holder != ?`),
    take: db.prepare(`INSERT OR REPLACE INTO concurrency_slots (key, holder, until) VALUES (?, ?, ?)`),
    renew: db.prepare(`UPDATE concurrency_slots SET until = ? WHERE key = ? AND holder = ?`),
    release: db.prepare(`DELETE FROM concurrency_slots WHERE key = ? AND holder = ?`),
  };
  return {
    acquireSlot(key, holder, limit, until, now) {
      return db
        .transaction(() => {
          stmt.expire.run(key, now);
          if (Number((stmt.count.get(key, holder) as Row)['n']) >= limit) return false;
          stmt.take.run(key, holder, until);
          return true;
        })
        .immediate();
    },
    renewSlot(key, holder, until) {
      return stmt.renew.run(until, key, holder).changes === 1;
    },
    releaseSlot(key, holder) {
      stmt.release.run(key, holder);
    },
  };
}
