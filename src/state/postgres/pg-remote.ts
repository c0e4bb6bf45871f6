import type { ConcurrencySlotStore } from '../concurrency-slots.js';
import type { RemoteAttemptStore } from '../remote-attempts.js';
import { REMOTE_COLUMNS, toRemoteAttempt } from '../remote-rows.js';
import type { Row } from '../rows.js';
import type { SqlValue } from './sync-client.js';

type Params = readonly SqlValue[];
type Query = (sql: string, params?: Params) => { rows: Row[]; rowCount: number };

// PostgreSQL's record of attempts run by workers: each change is one statement, so a claim, a result and a revoke
// of the same attempt are ordered by its row's lock.
export function pgRemoteAttempts(q: Query, w: (sql: string, params?: Params) => void): RemoteAttemptStore {
  return {
    queueRemote(a, now) {
      w(
        `INSERT INTO remote_attempts (job_id, run_id, step_id, item, attempt, state, scope, queued_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7) ON CONFLICT (job_id) DO NOTHING`,
        [a.jobId, a.runId, a.stepId, a.item, a.attempt, JSON.stringify(a.scope), now],
      );
    },
    claimRemote(jobIds, token, worker, until) {
      return q(
        `UPDATE remote_attempts SET state = 'claimed', token = $2, worker = $3, until = $4
         WHERE job_id = ANY($1::text[]) AND state = 'queued' RETURNING ${REMOTE_COLUMNS}`,
        [jobIds, token, worker, until],
      ).rows.map(toRemoteAttempt);
    },
    renewRemote(jobIds, token, until) {
      return q(
        `UPDATE remote_attempts SET until = $3
         WHERE job_id = ANY($1::text[]) AND state = 'claimed' AND token = $2 RETURNING job_id`,
        [jobIds, token, until],
      ).rows.map((r) => String(r['job_id']));
    },
    finishRemote(results) {
      return q(
        `UPDATE remote_attempts AS r SET state = 'done', result = v.result
         FROM unnest($1::text[], $2::text[], $3::text[]) AS v(job_id, token, result)
         WHERE r.job_id = v.job_id AND r.state = 'claimed' AND r.token = v.token RETURNING r.job_id`,
        [results.map((r) => r.jobId), results.map((r) => r.token), results.map((r) => JSON.stringify(r.result))],
      ).rows.map((r) => String(r['job_id']));
    },
    revokeRemote(jobId) {
      const revoked = q(
        `UPDATE remote_attempts SET state = 'revoked' WHERE job_id = $1 AND state IN ('queued', 'claimed') RETURNING ${REMOTE_COLUMNS}`,
        [jobId],
      ).rows[0];
      // Not revoked: a statement of its own, whose snapshot sees the result a worker committed meanwhile.
      const row = revoked ?? q(`SELECT ${REMOTE_COLUMNS} FROM remote_attempts WHERE job_id = $1`, [jobId]).rows[0];
      return row ? toRemoteAttempt(row) : undefined;
    },
    remoteAttempts(jobIds) {
      return q(`SELECT ${REMOTE_COLUMNS} FROM remote_attempts WHERE job_id = ANY($1::text[])`, [jobIds]).rows.map(toRemoteAttempt);
    },
    settledRemote(jobIds) {
      return q(`SELECT ${REMOTE_COLUMNS} FROM remote_attempts WHERE job_id = ANY($1::text[]) AND state IN ('done', 'revoked')`, [
        jobIds,
      ]).rows.map(toRemoteAttempt);
    },
  };
}

/** The advisory lock of one cap's key, held while a slot is taken: two takes of the same key do not both count n-1. */
const SLOT_LOCK = `pg_advisory_xact_lock(hashtext('flow-slot:' || $1))`;

// PostgreSQL's concurrency slots: a take counts and inserts under the key's advisory lock, in one statement.
export function pgConcurrencySlots(q: Query, transaction: <T>(fn: () => T) => T): ConcurrencySlotStore {
  return {
    acquireSlot(key, holder, limit, until, now) {
      return transaction(() => {
        q(`SELECT ${SLOT_LOCK}`, [key]);
        q(`DELETE FROM concurrency_slots WHERE key = $1 AND until < $2`, [key, now]);
        const held = Number(
          q(`SELECT count(*)::int AS n FROM concurrency_slots WHERE key = $1 AND holder != $2`, [key, holder]).rows[0]?.['n'],
        );
        if (held >= limit) return false;
        q(
          `INSERT INTO concurrency_slots (key, holder, until) VALUES ($1, $2, $3)
           ON CONFLICT (key, holder) DO UPDATE SET until = excluded.until`,
          [key, holder, until],
        );
        return true;
      });
    },
    renewSlot(key, holder, until) {
      return q(`UPDATE concurrency_slots SET until = $3 WHERE key = $1 AND holder = $2`, [key, holder, until]).rowCount === 1;
    },
    releaseSlot(key, holder) {
      q(`DELETE FROM concurrency_slots WHERE key = $1 AND holder = $2`, [key, holder]);
    },
  };
}
