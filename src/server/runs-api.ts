import type { RunRecord, RunStatus } from '../model/run.js';
import { showJson } from '../report/history.js';
import { runJson } from '../report/run-list.js';
import { type RunDetail, readRunDetail } from '../report/step-views.js';
import type { RunFilter, RunHistory } from '../state/run-history.js';
import { problem } from './problem.js';

// The runs part of the API: plain data in (a URL's query), plain data out (the JSON a route answers).

const STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'interrupted'];
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

/** GET /runs: newest first, filtered, a page at a time; `next_cursor` fetches the next page (null on the last). */
export function listRuns(history: RunHistory, query: URLSearchParams): { runs: unknown[]; next_cursor: string | null } {
  const filter: RunFilter = { limit: pageSize(query) + 1 };
  const status = query.get('status');
  if (status !== null) {
    if (!STATUSES.includes(status as RunStatus)) throw badParameter('status', status, `one of ${STATUSES.join(', ')}`);
    filter.status = status as RunStatus;
  }
  const workflow = query.get('workflow');
  if (workflow) filter.workflow = workflow;
  const text = query.get('text');
  if (text) filter.text = text;
  const since = query.get('since');
  if (since !== null) {
    const at = Date.parse(since);
    if (Number.isNaN(at)) throw badParameter('since', since, 'an ISO 8601 time, e.g. 2026-01-31T09:00:00Z');
    filter.since = new Date(at).toISOString();
  }
  const cursor = query.get('cursor');
  if (cursor !== null) filter.after = decodeCursor(cursor);
  const runs = history.listRuns(filter);
  const page = runs.slice(0, filter.limit! - 1);
  const last = page.at(-1);
  return {
    runs: page.map(runJson),
    next_cursor: runs.length > page.length && last ? encodeCursor({ startedAt: last.startedAt, id: last.id }) : null,
  };
}

/** GET /runs/{id}: the JSON of `flow show --json`. */
export function getRun(history: RunHistory, runId: string): unknown {
  return showJson(runDetail(history, runId));
}

export function runDetail(history: RunHistory, runId: string): RunDetail {
  return readRunDetail(history, recordedRun(history, runId));
}

function recordedRun(history: RunHistory, runId: string): RunRecord {
  const run = history.getRun(runId);
  if (!run) throw problem(404, 'unknown-run', 'Unknown run', `no run ${runId} in the state file`, 'GET /api/v1/runs lists the runs');
  return run;
}

/** GET /runs/{id}/steps/{step}/logs: the step's output chunks (its child runs' too), `offset` and `limit` a range of them. */
export function stepLogs(history: RunHistory, runId: string, step: string, query: URLSearchParams): unknown {
  recordedRun(history, runId);
  const attempt = optionalNumber(query, 'attempt', 1);
  const offset = optionalNumber(query, 'offset', 0) ?? 0;
  const limit = Math.min(optionalNumber(query, 'limit', 1) ?? 1000, 10_000);
  if (!history.hasStep(runId, step)) throw problem(404, 'unknown-step', 'Unknown step', `run ${runId} has not run a step '${step}'`);
  const chunks = history.logs(runId, { step, ...(attempt !== undefined ? { attempt } : {}) });
  return {
    total: chunks.length,
    offset,
    chunks: chunks.slice(offset, offset + limit).map((c) => ({
      run_id: c.runId,
      step_id: c.stepId,
      item: c.item,
      attempt: c.attempt,
      stream: c.stream,
      text: c.text,
    })),
  };
}

function pageSize(query: URLSearchParams): number {
  return Math.min(optionalNumber(query, 'limit', 1) ?? DEFAULT_PAGE, MAX_PAGE);
}

function optionalNumber(query: URLSearchParams, name: string, min: number): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw badParameter(name, text, `a whole number of at least ${min}`);
  return n;
}

function encodeCursor(after: { startedAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([after.startedAt, after.id])).toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: string; id: string } {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof startedAt === 'string' && typeof id === 'string') return { startedAt, id };
  } catch {
    // answered below
  }
  throw badParameter('cursor', cursor, 'the next_cursor of an earlier page');
}

function badParameter(name: string, value: string, want: string) {
  return problem(400, 'invalid-parameter', 'Invalid parameter', `${name}=${value} is not valid: it takes ${want}`);
}
