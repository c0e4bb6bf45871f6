import type { RunOwner, RunRecord, RunStatus, StepAttempt, StepError, StepResult } from '../model/run.js';
import type { RunSummary } from './run-history.js';
import { LEGACY_LEASE_MS } from './lease.js';
import type { OwnerAlive } from './run-store.js';

// Rows of a store (the SQLite file or PostgreSQL) as the model's records: JSON columns parsed, NULLs as undefined.

export type Row = Record<string, unknown>;
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
export const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : undefined);

/** What an attempt's end sets, in this order: status, error, ended_at, delay_ms, ai. */
export function attemptEndValues(a: StepAttempt): (string | number | null)[] {
  return [a.status, json(a.error), a.endedAt ?? null, a.delayMs ?? null, a.ai ? JSON.stringify(a.ai) : null];
}

/** An attempt's columns: run_id, step_id, item, attempt, status, error, started_at, ended_at, delay_ms, ai. */
export function attemptValues(a: StepAttempt): (string | number | null)[] {
  const [status, error, ...end] = attemptEndValues(a);
  return [a.runId, a.stepId, a.item, a.attempt, status ?? null, error ?? null, a.startedAt, ...end];
}

/** A step result's columns: run_id, step_id, item, status, output, outputs, error, reason, attempts, started_at, ended_at, masked. */
export function resultValues(runId: string, stepId: string, item: number, r: StepResult): (string | number | null)[] {
  return [
    runId,
    stepId,
    item,
    r.status,
    json(r.output),
    json(r.outputs),
    json(r.error),
    r.reason ?? null,
    r.attempts,
    r.startedAt,
    r.endedAt ?? null,
    r.masked ? 1 : 0,
  ];
}
const optional = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The run's owner, from its owner_* columns; undefined when nobody drives it. */
export function toOwner(row: Row): RunOwner | undefined {
  const token = optional(row['owner_token']);
  if (token === undefined) return undefined;
  return { host: String(row['owner_host']), pid: Number(row['owner_pid']), processStart: String(row['owner_start'] ?? ''), token };
}

const heartbeatOf = (row: Row): number | undefined => (typeof row['heartbeat_at'] === 'number' ? row['heartbeat_at'] : undefined);
/** Until when the owner holds the run: its lease's end, or for a run recorded before leases had one, a minute after its heartbeat. */
const leaseUntilOf = (row: Row): number | undefined => {
  if (typeof row['lease_until'] === 'number') return row['lease_until'];
  const heartbeat = heartbeatOf(row);
  return heartbeat === undefined ? undefined : heartbeat + LEGACY_LEASE_MS;
};

export function toRun(row: Row): RunRecord {
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
    attempt: Number(row['attempt'] ?? 1),
    owner: toOwner(row),
    heartbeatAt: heartbeatOf(row),
    leaseUntil: leaseUntilOf(row),
    ...(typeof row['shape'] === 'string' ? { shape: JSON.parse(row['shape']) } : {}),
  };
}

export function toResult(row: Row): StepResult {
  return {
    status: row['status'] as StepResult['status'],
    output: parse(row['output']),
    outputs: (parse(row['outputs']) as Record<string, unknown>) ?? {},
    error: parse(row['error']) as StepError | undefined,
    reason: optional(row['reason']),
    attempts: Number(row['attempts']),
    startedAt: String(row['started_at']),
    endedAt: optional(row['ended_at']),
    ...(row['masked'] === 1 ? { masked: true } : {}),
  };
}

/** The columns a run list reads: no definition, inputs or outputs. */
/** The highest number in a run's (@runId) sequence of events and output chunks, as `n`; 0 when none. */
export const LAST_EVENT_SEQ = `SELECT max(coalesce((SELECT max(seq) FROM events WHERE run_id = @runId), 0),
  coalesce((SELECT max(event_seq) FROM logs WHERE run_id = @runId), 0)) AS n`;

export const SUMMARY_COLUMNS =
  'id, workflow_name, workflow_path, status, started_at, ended_at, attempt, owner_host, owner_pid, owner_start, owner_token, heartbeat_at, lease_until';

export function toRunSummary(row: Row, alive: OwnerAlive): RunSummary {
  return {
    id: String(row['id']),
    workflowName: String(row['workflow_name']),
    workflowPath: String(row['workflow_path']),
    status: seenStatus(row, alive),
    startedAt: String(row['started_at']),
    endedAt: optional(row['ended_at']),
    attempt: Number(row['attempt'] ?? 1),
  };
}

/** A run recorded as running whose driver is gone is interrupted: that is what `flow resume` would find. */
export function seenStatus(row: Row, alive: OwnerAlive): RunStatus {
  const status = row['status'] as RunStatus;
  if (status !== 'running') return status;
  const owner = toOwner(row);
  return owner && alive(owner, leaseUntilOf(row)) ? 'running' : 'interrupted';
}
