import { eventLine } from '../model/event-json.js';
import type { StepAttempt, StepStatus } from '../model/run.js';
import { addSpend, type ModelSpend, noSpend } from '../model/spend.js';
import type { LogChunk, RunSummary, StoredEvent } from './run-history.js';
import type { Row } from './rows.js';
import { toResult } from './rows.js';
import type { StoredStepResult } from './run-store.js';

// What both RunHistory adapters (SQLite, PostgreSQL) make of the rows their queries return.

/** A run's step results, with each step whose last attempt is still recorded running shown as `stopped`. */
export function stepsWithInFlight(stepRows: Row[], inFlightRows: Row[], stopped: StepStatus): StoredStepResult[] {
  const results = new Map<string, StoredStepResult>();
  for (const row of stepRows) {
    const r = { stepId: String(row['step_id']), item: Number(row['item']), result: toResult(row) };
    results.set(`${r.stepId}#${r.item}`, r);
  }
  for (const row of inFlightRows) {
    const stepId = String(row['step_id']);
    const item = Number(row['item']);
    results.set(`${stepId}#${item}`, {
      stepId,
      item,
      result: {
        status: stopped,
        output: null,
        outputs: {},
        error: undefined,
        reason: undefined,
        attempts: Number(row['attempt']),
        startedAt: String(row['started_at']),
        endedAt: undefined,
      },
    });
  }
  return [...results.values()].sort((a, b) => cmp(a.result.startedAt, b.result.startedAt) || cmp(a.stepId, b.stepId) || a.item - b.item);
}

/** The listed runs with what their model calls took, from rows of (owner, ai). */
export function withSpendRows(runs: RunSummary[], rows: Row[]): RunSummary[] {
  const byRun = new Map<string, ModelSpend>();
  for (const row of rows) {
    const owner = String(row['owner']);
    const sum = byRun.get(owner) ?? noSpend();
    addSpend(sum, JSON.parse(String(row['ai'])) as ModelSpend);
    byRun.set(owner, sum);
  }
  return byRun.size === 0 ? runs : runs.map((r) => (byRun.has(r.id) ? { ...r, ai: byRun.get(r.id)! } : r));
}

export function toAttempt(runId: string, row: Row): StepAttempt {
  return {
    runId,
    stepId: String(row['step_id']),
    item: -1,
    attempt: Number(row['attempt']),
    status: row['status'] as StepAttempt['status'],
    error: typeof row['error'] === 'string' ? (JSON.parse(row['error']) as StepAttempt['error']) : undefined,
    startedAt: String(row['started_at']),
    endedAt: typeof row['ended_at'] === 'string' ? row['ended_at'] : undefined,
    delayMs: typeof row['delay_ms'] === 'number' ? row['delay_ms'] : undefined,
    ai: typeof row['ai'] === 'string' ? (JSON.parse(row['ai']) as ModelSpend) : undefined,
  };
}

/** A row of a run's sequence: an event as its stored line, or an output chunk as the line its event would have. */
export function toStoredEvent(runId: string, row: Row): StoredEvent {
  return {
    seq: Number(row['seq']),
    line:
      typeof row['line'] === 'string'
        ? row['line']
        : eventLine(
            {
              type: 'step-output',
              runId,
              stepId: String(row['step_id']),
              item: Number(row['item']),
              attempt: Number(row['attempt']),
              stream: row['stream'] === 'stderr' ? 'stderr' : 'stdout',
              text: String(row['text']),
            },
            Number(row['time'] ?? 0),
          ),
  };
}

export function toLogChunk(row: Row): LogChunk {
  return {
    runId: String(row['run_id']),
    eventSeq: Number(row['event_seq'] ?? 0),
    stepId: String(row['step_id']),
    item: Number(row['item']),
    attempt: Number(row['attempt']),
    stream: row['stream'] === 'stderr' ? 'stderr' : 'stdout',
    text: String(row['text']),
  };
}

/** When a run stopped: its end, or for a driver that died without a word, its last heartbeat. */
export function endedAt(row: Row): number {
  if (typeof row['ended_at'] === 'string') return Date.parse(row['ended_at']);
  if (typeof row['heartbeat_at'] === 'number') return row['heartbeat_at'];
  return Date.parse(String(row['started_at']));
}

/** A step as `flow logs RUN STEP` names it: `id`, `id[N]` for one item (and below a `workflow` step, its child runs' steps). */
export function stepParams(step: string | undefined): { step: string | null; id: string | null; item: number | null } {
  if (step === undefined) return { step: null, id: null, item: null };
  const m = /^(.*)\[(\d+)\]$/.exec(step);
  return m ? { step, id: m[1]!, item: Number(m[2]) } : { step, id: step, item: null };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
