import type { RemoteAttempt, RemoteFinish, RemoteResult, RemoteScope, RemoteState } from './remote-attempts.js';
import { parse, type Row } from './rows.js';

// The remote_attempts table's rows, shared by the SQLite and PostgreSQL adapters.

export const REMOTE_COLUMNS = 'job_id, run_id, step_id, item, attempt, state, scope, worker, until, result, queued_at';

export function toRemoteAttempt(row: Row): RemoteAttempt {
  return {
    jobId: String(row['job_id']),
    runId: String(row['run_id']),
    stepId: String(row['step_id']),
    item: Number(row['item']),
    attempt: Number(row['attempt']),
    state: row['state'] as RemoteState,
    scope: (parse(row['scope']) as RemoteScope | undefined) ?? { previous: null, steps: {} },
    worker: typeof row['worker'] === 'string' ? row['worker'] : undefined,
    until: row['until'] === null || row['until'] === undefined ? undefined : Number(row['until']),
    result: parse(row['result']) as RemoteResult | undefined,
    queuedAt: Number(row['queued_at']),
  };
}

/** Results as one JSON parameter: rows of job_id, token and the result's own JSON text, for an UPDATE … FROM. */
export function resultRows(results: readonly RemoteFinish[]): string {
  return JSON.stringify(results.map((r) => ({ job_id: r.jobId, token: r.token, result: JSON.stringify(r.result) })));
}
