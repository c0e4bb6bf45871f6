import type { EventOf, FlowEvent, FlowEventType } from './events.js';
import type { RunRecord, StepError, StepResult } from './run.js';
import type { ModelSpend } from './spend.js';
import { isoTime } from './iso-time.js';

// An event as one JSON object on one line: the `--json` output, the events the state file keeps, and the server-sent
// events' data are this same line. Names are snake_case and every field is always present (null when absent), so a
// consumer in any language reads them without guessing. Described by schema/events.schema.json.

/** Raised only for a change that breaks a consumer (a field removed or renamed, a meaning changed); additions keep it. */
export const EVENTS_SCHEMA_VERSION = 1;

type Fields = Record<string, unknown>;

/** The event's line, stamped with `time` (milliseconds since the epoch); JSON.stringify escapes every newline in it. */
export function eventLine(event: FlowEvent, time: number): string {
  return JSON.stringify({ schema_version: EVENTS_SCHEMA_VERSION, type: event.type, time: isoTime(time), ...fields(event) });
}

const fields = fieldsOf({
  'run-started': (e) => ({ run: runJson(e.run), resumed: e.resumed }),
  'run-finished': (e) => ({
    run_id: e.runId,
    status: e.status,
    duration_ms: e.durationMs,
    error: errorJson(e.error),
    outputs: e.outputs ?? null,
    at: e.at,
  }),
  'step-started': (e) => stepFields(e, { attempt: e.attempt, kind: e.kind, at: e.at }),
  'step-items': (e) => stepFields(e, { count: e.count }),
  'step-output': (e) => stepFields(e, { attempt: e.attempt, stream: e.stream, text: e.text }),
  'step-tokens': (e) => stepFields(e, { attempt: e.attempt, text: e.text }),
  'step-retrying': (e) =>
    stepFields(e, {
      attempt: e.attempt,
      delay_ms: e.delayMs,
      error: errorJson(e.error),
      at: e.at,
      ai: e.ai ? aiJson(e.ai) : null,
    }),
  'step-finished': (e) =>
    stepFields(e, {
      kind: e.kind,
      attempt: e.attempt,
      duration_ms: e.durationMs,
      result: resultJson(e.result),
      ai: e.ai ? aiJson(e.ai) : null,
    }),
  'step-restored': (e) => stepFields(e, { result: resultJson(e.result) }),
  'cache-hit': (e) => stepFields(e, { key: e.key }),
  log: (e) => ({ run_id: e.runId, level: e.level, message: e.message }),
});

/** Each event type's fields: a mapped type, so the compiler checks that none is forgotten (as `dispatch` does). */
type FieldMakers = { [T in FlowEventType]: (event: EventOf<T>) => Fields };

function fieldsOf(makers: FieldMakers): (event: FlowEvent) => Fields {
  return (event) => (makers[event.type] as (e: FlowEvent) => Fields)(event);
}

// The step's key, then its fields. Spread last, not first: on Node 20, `{ ...key, more }` is about 3 µs an object (V8
// extends the cloned object key by key, slowly) and two of these are made for every step.
function stepFields(e: { runId: string; stepId: string; item: number }, rest: Fields): Fields {
  return { run_id: e.runId, step_id: e.stepId, item: e.item, ...rest };
}

// Not the definition (the whole workflow text, large) nor the owner and heartbeat (the lease, internal).
function runJson(run: RunRecord): Fields {
  return {
    id: run.id,
    workflow_name: run.workflowName,
    workflow_path: run.workflowPath,
    attempt: run.attempt,
    parent_run_id: run.parentRunId ?? null,
    inputs: run.inputs,
    started_at: run.startedAt,
  };
}

function resultJson(r: StepResult): Fields {
  return {
    status: r.status,
    output: r.output ?? null,
    outputs: r.outputs,
    error: errorJson(r.error),
    reason: r.reason ?? null,
    attempts: r.attempts,
    started_at: r.startedAt,
    ended_at: r.endedAt ?? null,
    masked: r.masked === true,
  };
}

function errorJson(error: StepError | undefined): Fields | null {
  return error ? { class: error.class, message: error.message } : null;
}

/** The cost is null when no call's is known; `unpriced_calls` says how many of the calls it leaves out. */
export function aiJson(ai: ModelSpend): Fields {
  return {
    calls: ai.calls,
    models: ai.models,
    prompt_tokens: ai.promptTokens,
    completion_tokens: ai.completionTokens,
    cached_tokens: ai.cachedTokens,
    cost_usd: ai.unpriced === ai.calls ? null : Number(ai.cost.toPrecision(6)),
    unpriced_calls: ai.unpriced,
  };
}
