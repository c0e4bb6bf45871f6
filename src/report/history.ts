import type { Section } from '../language/semantic/step-tree.js';
import type { StepError, StepResult, StepStatus } from '../model/run.js';
import { type ModelSpend, addSpend, noSpend } from '../model/spend.js';
import { aiJson } from '../model/event-json.js';
import { aiLine } from './ai-spend.js';
import { duration } from './plain.js';
import { durationMs, type RunJson, runJson, stamp, table } from './run-list.js';
import { type RunDetail, stepViews } from './step-views.js';

// `flow show` as text and JSON: records in, text or plain data out. JSON keys are snake_case and documented in the
// README; keep the two in step.

export interface StepJson {
  id: string;
  group: string | null;
  section: Section;
  status: StepStatus;
  cached: boolean;
  attempts: number;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  error: StepError | null;
  reason: string | null;
  output: unknown;
  /** What the step's model calls took over all its attempts (and items, and child runs); null when it made none. */
  ai: Record<string, unknown> | null;
  /** Each attempt of the step (not of its items), in order: its outcome, its time, the wait before the next. */
  attempt_history: AttemptJson[];
  items?: ItemCounts;
  failed_items?: ItemJson[];
}

export interface AttemptJson {
  attempt: number;
  status: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  error: StepError | null;
  delay_ms: number | null;
  ai: Record<string, unknown> | null;
}

export type ItemCounts = { total: number } & Record<StepStatus, number>;

export interface ItemJson {
  index: number;
  status: StepStatus;
  attempts: number;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  error: StepError | null;
}

export interface RunDetailJson extends RunJson {
  parent_run_id: string | null;
  /** The digest of the workflow text the run runs: two runs of the same text have the same one. */
  definition_hash: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: StepError | null;
  steps: StepJson[];
  child_runs: RunJson[];
  /** What the run's model calls took, child runs' and failed attempts' included (report/ai-spend.ts aiJson). */
  ai: Record<string, unknown>;
}

const STATUSES: readonly StepStatus[] = ['succeeded', 'failed', 'skipped', 'cancelled', 'interrupted', 'running'];

// `flow show RUN_ID`: the run, then its steps in workflow order (groups indented), then its child runs.
export function showText(detail: RunDetail): string {
  const { run } = detail;
  const head = [
    ['workflow', `${run.workflowName} (${run.workflowPath})`],
    ['attempt', String(run.attempt)],
    ['started', stamp(run.startedAt)],
    ['ended', run.endedAt ? `${stamp(run.endedAt)} (${duration(durationMs(run.startedAt, run.endedAt)!)})` : '-'],
    ...(run.parentRunId ? [['parent', run.parentRunId]] : []),
    ...(run.error ? [['error', errorText(run.error)]] : []),
    ...(run.outputs && Object.keys(run.outputs).length > 0 ? [['outputs', oneLine(run.outputs)]] : []),
  ];
  const steps = stepViews(detail);
  const rows: string[][] = [];
  for (const s of steps) {
    const pad = '  '.repeat(s.depth);
    const name = `${pad}${s.id}${s.section === 'steps' ? '' : ` (${s.section})`}`;
    const counts = s.items ? itemCounts(s.items) : undefined;
    rows.push([name, statusText(s.result), s.items ? '-' : attemptsText(s.result), stepDuration(s.result), detailText(s.result, counts)]);
    for (const item of s.items?.filter((i) => i.result.status === 'failed') ?? []) {
      rows.push([
        `${pad}  ${s.id}[${item.index}]`,
        item.result.status,
        attemptsText(item.result),
        stepDuration(item.result),
        detailText(item.result),
      ]);
    }
  }
  const parts = [
    `run ${run.id}: ${run.status}\n${indent(table(head))}`,
    steps.length > 0 ? table([['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'RESULT'], ...rows]) : 'no steps recorded',
  ];
  const spend = runSpend(detail);
  if (spend.calls > 0) parts.push(`ai: ${aiLine(spend)}`);
  if (detail.children.length > 0) {
    parts.push(`child runs:\n${indent(table(detail.children.map((c) => [c.id, c.status, c.workflowName])))}`);
  }
  return parts.join('\n\n');
}

export function showJson(detail: RunDetail): RunDetailJson {
  const { run } = detail;
  const perStep = stepSpend(detail);
  const tries = new Map<string, AttemptJson[]>();
  for (const a of detail.attempts ?? []) {
    const list = tries.get(a.stepId) ?? [];
    list.push({
      attempt: a.attempt,
      status: a.status,
      started_at: a.startedAt,
      ended_at: a.endedAt ?? null,
      duration_ms: durationMs(a.startedAt, a.endedAt),
      error: a.error ?? null,
      delay_ms: a.delayMs ?? null,
      ai: a.ai ? aiJson(a.ai) : null,
    });
    tries.set(a.stepId, list);
  }
  return {
    ...runJson(run),
    parent_run_id: run.parentRunId ?? null,
    definition_hash: run.definitionHash,
    inputs: run.inputs,
    outputs: run.outputs ?? null,
    error: run.error ?? null,
    steps: stepViews(detail).map((s) => ({
      id: s.id,
      group: s.group ?? null,
      section: s.section,
      status: s.result.status,
      cached: s.result.reason === 'cache hit',
      ...resultJson(s.result),
      reason: s.result.reason ?? null,
      output: s.result.output,
      ai: perStep.has(s.id) ? aiJson(perStep.get(s.id)!) : null,
      attempt_history: tries.get(s.id) ?? [],
      ...(s.items
        ? {
            items: itemCounts(s.items),
            failed_items: s.items
              .filter((i) => i.result.status === 'failed')
              .map((i) => ({ index: i.index, status: i.result.status, ...resultJson(i.result) })),
          }
        : {}),
    })),
    child_runs: detail.children.map(runJson),
    ai: aiJson(runSpend(detail)),
  };
}

/** What the run's model calls took, as its attempts recorded it. */
function runSpend(detail: RunDetail): ModelSpend {
  const spend = noSpend();
  for (const s of detail.spend) addSpend(spend, s.spend);
  return spend;
}

/** Per step as `flow show` lists them: items are their step's, and a child run's steps (`id/...`) their `workflow` step's. */
function stepSpend(detail: RunDetail): Map<string, ModelSpend> {
  const byStep = new Map<string, ModelSpend>();
  for (const s of detail.spend) {
    const slash = s.stepId.indexOf('/');
    const id = slash < 0 ? s.stepId : s.stepId.slice(0, slash).replace(/\[\d+\]$/, '');
    const sum = byStep.get(id) ?? noSpend();
    addSpend(sum, s.spend);
    byStep.set(id, sum);
  }
  return byStep;
}

/** A value on one line of at most `max` characters. */
export function oneLine(value: unknown, max = 80): string {
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null')).replace(/\s*\n\s*/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const indent = (text: string) => text.replace(/^/gm, '  ');

function resultJson(r: StepResult) {
  return {
    attempts: r.attempts,
    started_at: r.startedAt,
    ended_at: r.endedAt ?? null,
    duration_ms: durationMs(r.startedAt, r.endedAt),
    error: r.error ?? null,
  };
}

function itemCounts(items: readonly { result: StepResult }[]): ItemCounts {
  const counts = { total: items.length, ...Object.fromEntries(STATUSES.map((s) => [s, 0])) } as ItemCounts;
  for (const i of items) counts[i.result.status]++;
  return counts;
}

function statusText(r: StepResult): string {
  return r.reason === 'cache hit' ? `${r.status} (cached)` : r.status;
}

function attemptsText(r: StepResult): string {
  return r.attempts > 0 ? String(r.attempts) : '-';
}

function stepDuration(r: StepResult): string {
  const ms = durationMs(r.startedAt, r.endedAt);
  return ms === null || r.status === 'skipped' ? '-' : duration(ms);
}

function detailText(r: StepResult, counts?: ItemCounts): string {
  if (counts) {
    const parts = STATUSES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
    return `${counts.total} item${counts.total === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
  }
  if (r.error) return errorText(r.error);
  if (r.status === 'skipped' || r.status === 'running' || r.status === 'interrupted') return r.reason ?? '';
  return oneLine(r.output);
}

function errorText(error: StepError): string {
  return oneLine(`${error.class}: ${error.message}`, 200);
}
