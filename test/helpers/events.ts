import type { EventOf, StepKind } from '../../src/model/events.js';
import type { RunRecord, RunStatus, StepError, StepResult } from '../../src/model/run.js';
import type { ModelSpend } from '../../src/model/spend.js';
import { aResult, aRun } from './records.js';

// Events as the engine emits them, for the reporters' tests: one builder per event type, named after it.
// A test gives what it is about; the rest is the common case: run 'r1', a plain step (item -1), the first attempt.

/** Which run and which of a for_each's items an event is about. */
interface Place {
  runId?: string;
  item?: number;
}

export function runStarted(run: Partial<RunRecord> = {}, { resumed = false } = {}): EventOf<'run-started'> {
  return { type: 'run-started', run: aRun(run), resumed };
}

export function runFinished(
  status: RunStatus,
  durationMs: number,
  { runId = 'r1', error, outputs, at = '' }: { runId?: string; error?: StepError; outputs?: Record<string, unknown>; at?: string } = {},
): EventOf<'run-finished'> {
  return { type: 'run-finished', runId, status, durationMs, error, outputs, at };
}

/** A group (parallel, sequence, for_each) starts as the engine starts one: attempt 0, not durable (see step-runner.ts). */
export function stepStarted(
  stepId: string,
  {
    runId = 'r1',
    item = -1,
    kind = 'action',
    attempt = kind === 'action' ? 1 : 0,
    at = '',
    durable = kind === 'action',
    inProcess = false,
  }: Place & { kind?: StepKind; attempt?: number; at?: string; durable?: boolean; inProcess?: boolean } = {},
): EventOf<'step-started'> {
  return { type: 'step-started', runId, stepId, item, attempt, kind, at, durable, inProcess };
}

export function stepOutput(
  stepId: string,
  text: string,
  { runId = 'r1', item = -1, attempt = 1, stream = 'stdout' }: Place & { attempt?: number; stream?: 'stdout' | 'stderr' } = {},
): EventOf<'step-output'> {
  return { type: 'step-output', runId, stepId, item, attempt, stream, text };
}

export function stepTokens(
  stepId: string,
  text: string,
  { runId = 'r1', item = -1, attempt = 1 }: Place & { attempt?: number } = {},
): EventOf<'step-tokens'> {
  return { type: 'step-tokens', runId, stepId, item, attempt, text };
}

export function stepRetrying(
  stepId: string,
  attempt: number,
  delayMs: number,
  error: StepError,
  { runId = 'r1', item = -1, at = '', durable = true, ai }: Place & { at?: string; durable?: boolean; ai?: ModelSpend } = {},
): EventOf<'step-retrying'> {
  return { type: 'step-retrying', runId, stepId, item, attempt, delayMs, error, at, durable, ...(ai ? { ai } : {}) };
}

/** A step's end; `result` gives what differs from a first-attempt success, its status included. A group's end is not durable. */
export function stepFinished(
  stepId: string,
  durationMs: number,
  result: Partial<StepResult> = {},
  {
    runId = 'r1',
    item = -1,
    kind = 'action',
    durable = kind === 'action',
    ai,
  }: Place & { kind?: StepKind; durable?: boolean; ai?: ModelSpend } = {},
): EventOf<'step-finished'> {
  const attempt = result.attempts ?? 1;
  return {
    type: 'step-finished',
    runId,
    stepId,
    item,
    kind,
    attempt,
    result: aResult(result.status ?? 'succeeded', result),
    durationMs,
    durable,
    ...(ai ? { ai } : {}),
  };
}

export function stepItems(stepId: string, count: number, { runId = 'r1' }: { runId?: string } = {}): EventOf<'step-items'> {
  return { type: 'step-items', runId, stepId, item: -1, count };
}

export function stepRestored(
  stepId: string,
  result: StepResult = aResult(),
  { runId = 'r1', item = -1 }: Place = {},
): EventOf<'step-restored'> {
  return { type: 'step-restored', runId, stepId, item, result };
}

export function cacheHit(stepId: string, key: string, { runId = 'r1', item = -1 }: Place = {}): EventOf<'cache-hit'> {
  return { type: 'cache-hit', runId, stepId, item, key };
}

export function log(level: 'info' | 'warning', message: string, { runId = 'r1' }: { runId?: string } = {}): EventOf<'log'> {
  return { type: 'log', runId, level, message };
}

/** A step's error: a message and its class (`exit:1` unless given). */
export function stepError(message: string, cls = 'exit:1'): StepError {
  return { class: cls, message };
}
