import type { StepStatus } from '../model/run.js';
import type { ModelSpend } from '../model/spend.js';
import { endedAt, stepParams, stepsWithInFlight, toAttempt, toLogChunk, toStoredEvent, withSpendRows } from './history-rows.js';
import { aliveNow } from './lease.js';
import type { LogChunk, LogQuery, PruneRequest, RunHistory, RunSummary } from './run-history.js';
import type { OwnerAlive } from './run-store.js';
import { guardStateFile, openDatabase, stateFileError } from './sqlite-open.js';
import { LAST_EVENT_SEQ, type Row, SUMMARY_COLUMNS, seenStatus, toRun, toRunSummary } from './rows.js';

export interface SqliteHistoryOptions {
  /** Whether a recorded owner still drives its run; by default the process and its heartbeat are asked now. */
  alive?: OwnerAlive;
}

// A run and every run below it (child runs of `workflow` steps, and theirs).
const TREE = `WITH RECURSIVE tree(id) AS (SELECT @runId UNION SELECT runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id)`;

// A step as `flow logs RUN STEP` names it: `id`, `id[N]` for one item, and below a `workflow` step its child runs' steps.
const stepMatches = (t: string) => `(@step IS NULL OR (${t}.step_id = @id AND (@item IS NULL OR ${t}.item = @item))
  OR substr(${t}.step_id, 1, length(@step) + 1) IN (@step || '/', @step || '['))`;

// The SQLite adapter of RunHistory: read queries that select only the columns they show, on the runs_* indexes.
export function openSqliteHistory(path: string, options: SqliteHistoryOptions = {}): RunHistory {
  const db = openDatabase(path);
  const alive = options.alive ?? aliveNow;
  const stmt = {
    getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
    steps: db.prepare(
      `SELECT step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at
       FROM steps WHERE run_id = ? ORDER BY started_at, step_id, item`,
    ),
    // The last attempt of a step, still recorded as running: in flight, or its driver stopped while it ran.
    inFlight: db.prepare(
      `SELECT step_id, item, attempt, started_at FROM attempts a
       WHERE run_id = ? AND status = 'running'
         AND attempt = (SELECT max(attempt) FROM attempts b WHERE b.run_id = a.run_id AND b.step_id = a.step_id AND b.item = a.item)`,
    ),
    childRuns: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs WHERE parent_run_id = ? ORDER BY started_at, id`),
    stepAttempts: db.prepare(
      `SELECT step_id, attempt, status, error, started_at, ended_at, delay_ms, ai FROM attempts
       WHERE run_id = ? AND item = -1 ORDER BY started_at, step_id, attempt`,
    ),
    // What the model calls of the listed runs (and of their child runs) took, through the attempts' primary key.
    listedSpend: db.prepare(
      `WITH listed(id) AS (SELECT value FROM json_each(@ids)),
            owned(id, owner) AS (SELECT id, id FROM listed UNION ALL SELECT runs.id, runs.parent_run_id FROM runs JOIN listed ON runs.parent_run_id = listed.id)
       SELECT owned.owner, a.ai FROM owned JOIN attempts a ON a.run_id = owned.id WHERE a.ai IS NOT NULL`,
    ),
    modelSpend: db.prepare(
      `${TREE} SELECT step_id, item, ai FROM attempts WHERE run_id IN (SELECT id FROM tree) AND ai IS NOT NULL
       ORDER BY started_at, step_id, item, attempt`,
    ),
    hasStep: db.prepare(
      `${TREE} SELECT 1 FROM (SELECT run_id, step_id, item FROM steps UNION ALL SELECT run_id, step_id, item FROM attempts) s
       WHERE s.run_id IN (SELECT id FROM tree) AND ${stepMatches('s')} LIMIT 1`,
    ),
    logs: db.prepare(
      `${TREE} SELECT l.run_id, l.event_seq, l.step_id, l.item, l.attempt, l.stream, l.text FROM logs l
       LEFT JOIN attempts a ON a.run_id = l.run_id AND a.step_id = l.step_id AND a.item = l.item AND a.attempt = l.attempt
       WHERE l.run_id IN (SELECT id FROM tree) AND (@attempt IS NULL OR l.attempt = @attempt)
         AND ${stepMatches('l')}
       ORDER BY a.started_at, l.run_id, l.step_id, l.item, l.attempt, l.seq`,
    ),
    lastEventSeq: db.prepare(LAST_EVENT_SEQ),
    allEventsSince: db.prepare(`SELECT id, line FROM events WHERE id > ? ORDER BY id LIMIT ?`),
    lastEventId: db.prepare(`SELECT coalesce(max(id), 0) AS n FROM events`),
    eventsSince: db.prepare(
      `SELECT seq, line, NULL AS step_id, NULL AS item, NULL AS attempt, NULL AS stream, NULL AS text, NULL AS time
         FROM events WHERE run_id = @runId AND seq > @after
       UNION ALL
       SELECT event_seq, NULL, step_id, item, attempt, stream, text, time
         FROM logs WHERE run_id = @runId AND event_seq > @after
       ORDER BY 1 LIMIT @limit`,
    ),
    // What came since a follower last read, through logs_event_seq; in the order it came, run by run.
    logsSince: db.prepare(
      `${TREE} SELECT l.run_id, l.event_seq, l.step_id, l.item, l.attempt, l.stream, l.text
       FROM tree JOIN logs l ON l.run_id = tree.id
       WHERE l.event_seq > coalesce((SELECT value FROM json_each(@after) WHERE key = tree.id), 0)
         AND (@attempt IS NULL OR l.attempt = @attempt) AND ${stepMatches('l')}
       ORDER BY l.run_id, l.event_seq`,
    ),
    // Prune candidates: every top-level run but the newest `keep`, with what decides whether it has ended.
    pruneCandidates: db.prepare(
      `SELECT id, status, started_at, ended_at, owner_host, owner_pid, owner_start, owner_token, heartbeat_at, lease_until
       FROM runs WHERE parent_run_id IS NULL ORDER BY started_at DESC, id DESC LIMIT -1 OFFSET ?`,
    ),
    descendants: db.prepare(
      `WITH RECURSIVE tree(id) AS (SELECT value FROM json_each(?) UNION SELECT runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id)
       SELECT id FROM tree`,
    ),
    deletes: ['events', 'logs', 'attempts', 'remote_attempts', 'steps'].map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE run_id IN (SELECT value FROM json_each(?))`),
    ),
    deleteRuns: db.prepare(`DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))`),
    clearCache: db.prepare(`DELETE FROM cache`),
  };
  const guard = <T>(fn: () => T): T => guardStateFile(db, fn);
  const withSpend = (runs: RunSummary[]): RunSummary[] =>
    runs.length === 0 ? runs : withSpendRows(runs, stmt.listedSpend.all({ ids: JSON.stringify(runs.map((r) => r.id)) }) as Row[]);

  return {
    listRuns(filter) {
      // Liveness is not in the file: `running` and `interrupted` are asked of the rows, the limit counted after.
      const seen = filter.status === 'running' || filter.status === 'interrupted';
      const where = [
        // The unary + keeps SQLite off runs_parent (all top-level runs, then a sort) and on runs_started (newest first, stop at the limit).
        '+parent_run_id IS NULL',
        ...(filter.status === 'interrupted'
          ? [`status IN ('interrupted', 'running')`]
          : filter.status !== undefined
            ? ['status = @status']
            : []),
        ...(filter.workflow !== undefined ? ['workflow_name = @workflow'] : []),
        ...(filter.since !== undefined ? ['started_at >= @since'] : []),
        ...(filter.text !== undefined ? [`(instr(id, @text) OR instr(workflow_name, @text) OR instr(workflow_path, @text))`] : []),
        ...(filter.after !== undefined ? ['(started_at < @afterStarted OR (started_at = @afterStarted AND id < @afterId))'] : []),
      ];
      const sql = `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE ${where.join(' AND ')} ORDER BY started_at DESC, id DESC${
        filter.limit !== undefined && !seen ? ' LIMIT @limit' : ''
      }`;
      const query = db.prepare(sql);
      const params = {
        ...(filter.status !== undefined && filter.status !== 'interrupted' ? { status: filter.status } : {}),
        ...(filter.workflow !== undefined ? { workflow: filter.workflow } : {}),
        ...(filter.since !== undefined ? { since: filter.since } : {}),
        ...(filter.text !== undefined ? { text: filter.text } : {}),
        ...(filter.after !== undefined ? { afterStarted: filter.after.startedAt, afterId: filter.after.id } : {}),
        ...(filter.limit !== undefined && !seen ? { limit: filter.limit } : {}),
      };
      return guard(() => {
        if (!seen) return withSpend((query.all(params) as Row[]).map((row) => toRunSummary(row, alive)));
        const out: RunSummary[] = [];
        for (const row of query.iterate(params) as IterableIterator<Row>) {
          const run = toRunSummary(row, alive);
          if (run.status === filter.status) out.push(run);
          if (filter.limit !== undefined && out.length >= filter.limit) break;
        }
        return withSpend(out);
      });
    },
    getRun(runId) {
      const row = guard(() => stmt.getRun.get(runId) as Row | undefined);
      return row ? { ...toRun(row), status: seenStatus(row, alive) } : undefined;
    },
    steps(runId) {
      return guard(() => {
        const run = stmt.getRun.get(runId) as Row | undefined;
        const stopped: StepStatus = run && seenStatus(run, alive) === 'running' ? 'running' : 'interrupted';
        return stepsWithInFlight(stmt.steps.all(runId) as Row[], stmt.inFlight.all(runId) as Row[], stopped);
      });
    },
    childRuns(runId) {
      return guard(() => (stmt.childRuns.all(runId) as Row[]).map((row) => toRunSummary(row, alive)));
    },
    stepAttempts(runId) {
      return guard(() => (stmt.stepAttempts.all(runId) as Row[]).map((row) => toAttempt(runId, row)));
    },
    modelSpend(runId) {
      return guard(() =>
        (stmt.modelSpend.all({ runId }) as Row[]).map((row) => ({
          stepId: String(row['step_id']),
          item: Number(row['item']),
          spend: JSON.parse(String(row['ai'])) as ModelSpend,
        })),
      );
    },
    hasStep(runId, step) {
      return guard(() => stmt.hasStep.get({ runId, ...stepParams(step) }) !== undefined);
    },
    logs(runId, query: LogQuery): LogChunk[] {
      const params = { runId, attempt: query.attempt ?? null, ...stepParams(query.step) };
      return guard(() => (stmt.logs.all(params) as Row[]).map(toLogChunk));
    },
    logsSince(runId, query, after) {
      const params = { runId, attempt: query.attempt ?? null, after: JSON.stringify(Object.fromEntries(after)), ...stepParams(query.step) };
      return guard(() => (stmt.logsSince.all(params) as Row[]).map(toLogChunk));
    },
    eventsSince(runId, after, limit) {
      return guard(() => (stmt.eventsSince.all({ runId, after, limit }) as Row[]).map((row) => toStoredEvent(runId, row)));
    },
    allEventsSince(afterId, limit) {
      return guard(() =>
        (stmt.allEventsSince.all(afterId, limit) as Row[]).map((row) => ({ seq: Number(row['id']), line: String(row['line']) })),
      );
    },
    lastEventId() {
      return guard(() => Number((stmt.lastEventId.get() as Row)['n']));
    },
    lastEventSeq(runId) {
      return guard(() => Number((stmt.lastEventSeq.get({ runId }) as Row)['n'] ?? 0));
    },
    changeCounter() {
      return Number(db.pragma('data_version', { simple: true }));
    },
    prune(request: PruneRequest) {
      const pages = () => Number(db.pragma('page_count', { simple: true }));
      const pageSize = Number(db.pragma('page_size', { simple: true }));
      const before = pages();
      const removed = guard(() =>
        db
          .transaction(() => {
            const old = (stmt.pruneCandidates.all(request.keep) as Row[]).filter((row) => {
              if (seenStatus(row, alive) === 'running') return false;
              return endedAt(row) < request.endedBefore;
            });
            if (old.length === 0) return 0;
            const ids = JSON.stringify((stmt.descendants.all(JSON.stringify(old.map((r) => r['id']))) as Row[]).map((r) => r['id']));
            for (const d of stmt.deletes) d.run(ids);
            stmt.deleteRuns.run(ids);
            return old.length;
          })
          .immediate(),
      );
      if (removed === 0 && Number(db.pragma('freelist_count', { simple: true })) === 0) return { runs: 0, bytesReclaimed: 0 };
      try {
        db.exec('VACUUM');
        // The compacted pages reach the file itself only at a checkpoint.
        db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return { runs: removed, bytesReclaimed: undefined };
        throw stateFileError(db.name, err);
      }
      return { runs: removed, bytesReclaimed: Math.max(0, before - pages()) * pageSize };
    },
    clearCache() {
      return guard(() => stmt.clearCache.run().changes);
    },
    close() {
      db.close();
    },
  };
}
