import type { StepStatus } from '../../model/run.js';
import { endedAt, stepParams, stepsWithInFlight, toAttempt, toLogChunk, toStoredEvent, withSpendRows } from '../history-rows.js';
import { aliveNow } from '../lease.js';
import type { LogChunk, LogQuery, PruneRequest, RunHistory, RunSummary } from '../run-history.js';
import type { OwnerAlive } from '../run-store.js';
import { type Row, SUMMARY_COLUMNS, seenStatus, toRun, toRunSummary } from '../rows.js';
import { guardPg, openPgDatabase } from './pg-open.js';
import { LAST_EVENT_SEQ, RUN_TREE } from './pg-queries.js';
import type { SqlValue } from './sync-client.js';

export interface PgHistoryOptions {
  /** Whether a recorded owner still drives its run; by default the process and its heartbeat are asked now. */
  alive?: OwnerAlive;
}

// A step as `flow logs RUN STEP` names it ($2 the name, $3 its id, $4 its item), as the SQLite adapter matches it.
const stepMatches = (t: string) => `($2::text IS NULL OR (${t}.step_id = $3::text AND ($4::bigint IS NULL OR ${t}.item = $4::bigint))
  OR substr(${t}.step_id, 1, length($2::text) + 1) IN ($2::text || '/', $2::text || '['))`;

// The PostgreSQL adapter of RunHistory: the SQLite adapter's questions in PostgreSQL's SQL, on the same indexes.
export function openPgHistory(url: string, options: PgHistoryOptions = {}): RunHistory {
  const { client, shown } = openPgDatabase(url);
  const alive = options.alive ?? aliveNow;
  const rows = (sql: string, params?: readonly SqlValue[]): Row[] => guardPg(shown, () => client.query(sql, params).rows);
  const stepArgs = (step: string | undefined) => {
    const p = stepParams(step);
    return [p.step, p.id, p.item];
  };
  const withSpend = (runs: RunSummary[]): RunSummary[] =>
    runs.length === 0
      ? runs
      : withSpendRows(
          runs,
          rows(
            `WITH listed(id) AS (SELECT json_array_elements_text($1::json)),
                  owned(id, owner) AS (SELECT id, id FROM listed UNION ALL
                                       SELECT runs.id, runs.parent_run_id FROM runs JOIN listed ON runs.parent_run_id = listed.id)
             SELECT owned.owner, a.ai FROM owned JOIN attempts a ON a.run_id = owned.id WHERE a.ai IS NOT NULL`,
            [JSON.stringify(runs.map((r) => r.id))],
          ),
        );
  // What another connection committed shows as a new snapshot: a transaction that began or ended since.
  let lastSnapshot = '';
  let changes = 0;

  return {
    listRuns(filter) {
      // Liveness is not in the store: `running` and `interrupted` are asked of the rows, the limit counted after.
      const seen = filter.status === 'running' || filter.status === 'interrupted';
      const params: SqlValue[] = [];
      const param = (v: SqlValue) => {
        params.push(v);
        return `$${params.length}`;
      };
      const where = ['parent_run_id IS NULL'];
      if (filter.status === 'interrupted') where.push(`status IN ('interrupted', 'running')`);
      else if (filter.status !== undefined) where.push(`status = ${param(filter.status)}`);
      if (filter.workflow !== undefined) where.push(`workflow_name = ${param(filter.workflow)}`);
      if (filter.since !== undefined) where.push(`started_at >= ${param(filter.since)}`);
      if (filter.text !== undefined) {
        const t = param(filter.text);
        where.push(`(strpos(id, ${t}) > 0 OR strpos(workflow_name, ${t}) > 0 OR strpos(workflow_path, ${t}) > 0)`);
      }
      if (filter.after !== undefined) {
        const s = param(filter.after.startedAt);
        where.push(`(started_at < ${s} OR (started_at = ${s} AND id < ${param(filter.after.id)}))`);
      }
      const limit = filter.limit !== undefined && !seen ? ` LIMIT ${param(filter.limit)}` : '';
      const found = rows(
        `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE ${where.join(' AND ')} ORDER BY started_at DESC, id DESC${limit}`,
        params,
      );
      const runs = found.map((row) => toRunSummary(row, alive));
      if (!seen) return withSpend(runs);
      const wanted = runs.filter((r) => r.status === filter.status);
      return withSpend(filter.limit !== undefined ? wanted.slice(0, filter.limit) : wanted);
    },
    getRun(runId) {
      const row = rows(`SELECT * FROM runs WHERE id = $1`, [runId])[0];
      return row ? { ...toRun(row), status: seenStatus(row, alive) } : undefined;
    },
    steps(runId) {
      const run = rows(`SELECT * FROM runs WHERE id = $1`, [runId])[0];
      const stopped: StepStatus = run && seenStatus(run, alive) === 'running' ? 'running' : 'interrupted';
      return stepsWithInFlight(
        rows(
          `SELECT step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at
           FROM steps WHERE run_id = $1 ORDER BY started_at, step_id, item`,
          [runId],
        ),
        // The last attempt of a step, still recorded as running: in flight, or its driver stopped while it ran.
        rows(
          `SELECT step_id, item, attempt, started_at FROM attempts a
           WHERE run_id = $1 AND status = 'running'
             AND attempt = (SELECT max(attempt) FROM attempts b WHERE b.run_id = a.run_id AND b.step_id = a.step_id AND b.item = a.item)`,
          [runId],
        ),
        stopped,
      );
    },
    childRuns(runId) {
      return rows(`SELECT ${SUMMARY_COLUMNS} FROM runs WHERE parent_run_id = $1 ORDER BY started_at, id`, [runId]).map((row) =>
        toRunSummary(row, alive),
      );
    },
    stepAttempts(runId) {
      return rows(
        `SELECT step_id, attempt, status, error, started_at, ended_at, delay_ms, ai FROM attempts
         WHERE run_id = $1 AND item = -1 ORDER BY started_at, step_id, attempt`,
        [runId],
      ).map((row) => toAttempt(runId, row));
    },
    modelSpend(runId) {
      return rows(
        `${RUN_TREE} SELECT step_id, item, ai FROM attempts WHERE run_id IN (SELECT id FROM tree) AND ai IS NOT NULL
         ORDER BY started_at, step_id, item, attempt`,
        [runId],
      ).map((row) => ({ stepId: String(row['step_id']), item: Number(row['item']), spend: JSON.parse(String(row['ai'])) }));
    },
    hasStep(runId, step) {
      return (
        rows(
          `${RUN_TREE} SELECT 1 FROM (SELECT run_id, step_id, item FROM steps UNION ALL SELECT run_id, step_id, item FROM attempts) s
           WHERE s.run_id IN (SELECT id FROM tree) AND ${stepMatches('s')} LIMIT 1`,
          [runId, ...stepArgs(step)],
        ).length > 0
      );
    },
    logs(runId, query: LogQuery): LogChunk[] {
      return rows(
        `${RUN_TREE} SELECT l.run_id, l.event_seq, l.step_id, l.item, l.attempt, l.stream, l.text FROM logs l
         LEFT JOIN attempts a ON a.run_id = l.run_id AND a.step_id = l.step_id AND a.item = l.item AND a.attempt = l.attempt
         WHERE l.run_id IN (SELECT id FROM tree) AND ($5::bigint IS NULL OR l.attempt = $5::bigint) AND ${stepMatches('l')}
         ORDER BY a.started_at NULLS FIRST, l.run_id, l.step_id, l.item, l.attempt, l.seq`,
        [runId, ...stepArgs(query.step), query.attempt ?? null],
      ).map(toLogChunk);
    },
    logsSince(runId, query, after) {
      return rows(
        `${RUN_TREE} SELECT l.run_id, l.event_seq, l.step_id, l.item, l.attempt, l.stream, l.text
         FROM tree JOIN logs l ON l.run_id = tree.id
         WHERE l.event_seq > coalesce(($6::json ->> tree.id)::bigint, 0)
           AND ($5::bigint IS NULL OR l.attempt = $5::bigint) AND ${stepMatches('l')}
         ORDER BY l.run_id, l.event_seq`,
        [runId, ...stepArgs(query.step), query.attempt ?? null, JSON.stringify(Object.fromEntries(after))],
      ).map(toLogChunk);
    },
    eventsSince(runId, after, limit) {
      return rows(
        `SELECT seq, line, NULL AS step_id, NULL::int AS item, NULL::int AS attempt, NULL AS stream, NULL AS text, NULL::bigint AS time
           FROM events WHERE run_id = $1 AND seq > $2
         UNION ALL
         SELECT event_seq, NULL, step_id, item, attempt, stream, text, time
           FROM logs WHERE run_id = $1 AND event_seq > $2
         ORDER BY 1 LIMIT $3`,
        [runId, after, limit],
      ).map((row) => toStoredEvent(runId, row));
    },
    allEventsSince(afterId, limit) {
      return rows(`SELECT id, line FROM events WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit]).map((row) => ({
        seq: Number(row['id']),
        line: String(row['line']),
      }));
    },
    lastEventId() {
      return Number(rows(`SELECT coalesce(max(id), 0) AS n FROM events`)[0]?.['n'] ?? 0);
    },
    lastEventSeq(runId) {
      return Number(rows(LAST_EVENT_SEQ, [runId])[0]?.['n'] ?? 0);
    },
    changeCounter() {
      // The snapshot lists the transactions in progress: it changes when a write begins and again when it commits,
      // so a follower never takes a snapshot from mid-write for the last word (as SQLite's data_version is read).
      const snapshot = String(rows(`SELECT pg_current_snapshot()::text AS s`)[0]?.['s']);
      if (snapshot !== lastSnapshot) {
        lastSnapshot = snapshot;
        changes++;
      }
      return changes;
    },
    prune(request: PruneRequest) {
      const removed = guardPg(shown, () =>
        client.transaction(() => {
          const old = client
            .query(
              `SELECT id, status, started_at, ended_at, owner_host, owner_pid, owner_start, owner_token, heartbeat_at, lease_until
               FROM runs WHERE parent_run_id IS NULL ORDER BY started_at DESC, id DESC OFFSET $1 FOR UPDATE`,
              [request.keep],
            )
            .rows.filter((row) => seenStatus(row, alive) !== 'running' && endedAt(row) < request.endedBefore);
          if (old.length === 0) return 0;
          const ids = JSON.stringify(old.map((r) => r['id']));
          const tree = `WITH RECURSIVE tree(id) AS (SELECT json_array_elements_text($1::json) UNION SELECT runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id)`;
          const all = JSON.stringify(client.query(`${tree} SELECT id FROM tree`, [ids]).rows.map((r) => r['id']));
          for (const table of ['events', 'logs', 'attempts', 'remote_attempts', 'steps', 'runs'])
            client.query(
              `DELETE FROM ${table} WHERE ${table === 'runs' ? 'id' : 'run_id'} IN (SELECT json_array_elements_text($1::json))`,
              [all],
            );
          return old.length;
        }),
      );
      // PostgreSQL gives the space back by its own (auto)vacuum: how much is not known here.
      return { runs: removed, bytesReclaimed: undefined };
    },
    clearCache() {
      return guardPg(shown, () => client.query(`DELETE FROM cache`).rowCount);
    },
    close() {
      client.close();
    },
  };
}
