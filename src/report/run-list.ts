import { aiJson } from '../model/event-json.js';
import type { RunRecord } from '../model/run.js';
import type { RunSummary } from '../state/run-history.js';
import { duration } from './plain.js';

// `flow runs` as text and JSON: records in, text or plain data out. Apart from the rest of the history (report/
// history.ts), whose step views read workflow texts: listing runs needs neither them nor the YAML parser. JSON keys are
// snake_case and documented in the README; keep the two in step.

export interface RunJson {
  id: string;
  status: string;
  workflow: string;
  path: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  attempt: number;
  /** What its model calls took (its child runs' too); null when they made none. */
  ai: Record<string, unknown> | null;
}

export function runJson(run: RunSummary | RunRecord): RunJson {
  return {
    id: run.id,
    status: run.status,
    workflow: run.workflowName,
    path: run.workflowPath,
    started_at: run.startedAt,
    ended_at: run.endedAt ?? null,
    duration_ms: durationMs(run.startedAt, run.endedAt),
    attempt: run.attempt,
    ai: 'ai' in run && run.ai ? aiJson(run.ai) : null,
  };
}

// `flow runs`: one aligned row per run, newest first.
export function runsTable(runs: readonly RunSummary[], now: number): string {
  const rows = runs.map((r) => [
    r.id,
    r.status,
    r.workflowName,
    stamp(r.startedAt),
    r.endedAt
      ? duration(durationMs(r.startedAt, r.endedAt)!)
      : r.status === 'running'
        ? `${duration(now - Date.parse(r.startedAt))}…`
        : '-',
    String(r.attempt),
  ]);
  return table([['ID', 'STATUS', 'WORKFLOW', 'STARTED', 'DURATION', 'ATTEMPT'], ...rows]);
}

/** Rows as columns padded to their widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** An ISO time to the second: `2026-01-31T09:15:02Z`. */
export function stamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

export function durationMs(startedAt: string, endedAt: string | undefined): number | null {
  return endedAt === undefined ? null : Math.max(0, Date.parse(endedAt) - Date.parse(startedAt));
}
