import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/events.js';
import { jsonReporter } from '../../src/report/json.js';
import { expectGolden } from '../helpers/golden.js';
import { aResult, aRun } from '../helpers/records.js';

const SCHEMA_PATH = join(import.meta.dirname, '..', '..', 'schema', 'events.schema.json');
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { oneOf: { $ref: string }[]; $defs: Record<string, unknown> };
const validate = new Ajv2020({ allErrors: true }).compile(schema);

const T0 = Date.parse('2026-01-31T09:15:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

// A run that shows every event type: a retried step, a for_each, a skip, a cache hit, a restored step, a child run,
// output with a newline and a quote in it, and a run that fails with outputs unset.
const EVENTS: FlowEvent[] = [
  {
    type: 'run-started',
    run: aRun({
      id: 'r1',
      workflowName: 'demo',
      workflowPath: '/w/demo.yaml',
      definition: 'steps: [LARGE]',
      inputs: { who: 'ada', token: '***' },
    }),
    resumed: true,
  },
  { type: 'step-restored', runId: 'r1', stepId: 'setup', item: -1, result: aResult('succeeded', { output: { stdout: 'ok\n' } }) },
  { type: 'step-started', runId: 'r1', stepId: 'build', item: -1, attempt: 1, kind: 'action', at: at(1), durable: true },
  { type: 'step-output', runId: 'r1', stepId: 'build', item: -1, attempt: 1, stream: 'stdout', text: 'line "one"\nline two\n' },
  {
    type: 'step-retrying',
    runId: 'r1',
    stepId: 'build',
    item: -1,
    attempt: 1,
    delayMs: 1500,
    error: { class: 'exit:1', message: 'exit code 1' },
    at: at(2),
    durable: true,
  },
  { type: 'step-started', runId: 'r1', stepId: 'build', item: -1, attempt: 2, kind: 'action', at: at(4), durable: true },
  { type: 'step-output', runId: 'r1', stepId: 'build', item: -1, attempt: 2, stream: 'stderr', text: 'warn: ***' },
  {
    type: 'step-finished',
    runId: 'r1',
    stepId: 'build',
    item: -1,
    kind: 'action',
    attempt: 2,
    result: aResult('succeeded', {
      attempts: 2,
      output: { exit_code: 0, stdout: 'x' },
      outputs: { word: 'x' },
      startedAt: at(1),
      endedAt: at(5),
    }),
    durationMs: 4000,
    durable: true,
  },
  { type: 'step-items', runId: 'r1', stepId: 'each', item: -1, count: 2 },
  { type: 'cache-hit', runId: 'r1', stepId: 'each', item: 0, key: 'k0' },
  {
    type: 'step-finished',
    runId: 'r1',
    stepId: 'each',
    item: 1,
    kind: 'action',
    attempt: 1,
    result: aResult('failed', { error: { class: 'timeout', message: 'timed out after 5s' }, reason: 'continue_on_error', masked: true }),
    durationMs: 5000,
    durable: true,
  },
  {
    type: 'step-finished',
    runId: 'r1',
    stepId: 'later',
    item: -1,
    kind: 'action',
    attempt: 0,
    result: aResult('skipped', { attempts: 0, reason: 'if: false was false', endedAt: undefined }),
    durationMs: 0,
    durable: false,
  },
  { type: 'run-started', run: aRun({ id: 'c1', parentRunId: 'r1', workflowName: 'child', workflowPath: '/w/child.yaml' }), resumed: false },
  { type: 'run-finished', runId: 'c1', status: 'succeeded', durationMs: 12, error: undefined, outputs: { n: 1 }, at: at(6) },
  { type: 'log', runId: 'r1', level: 'warning', message: 'careful' },
  {
    type: 'run-finished',
    runId: 'r1',
    status: 'failed',
    durationMs: 7000,
    error: { class: 'exit:1', message: "step 'x' failed" },
    outputs: undefined,
    at: at(7),
  },
];

function ndjson(events: FlowEvent[]): string[] {
  const lines: string[] = [];
  let tick = 0;
  const reporter = jsonReporter((l) => lines.push(l), { now: () => T0 + 250 * tick++ });
  for (const e of events) reporter.listener(e);
  return lines;
}

describe('jsonReporter', () => {
  it('writes one JSON object per event, as the golden file shows', () => {
    expectGolden('json-basic.ndjson', `${ndjson(EVENTS).join('\n')}\n`);
  });

  it('keeps each event on one line, stamps it and leaves out the workflow text and internal fields', () => {
    const lines = ndjson(EVENTS);
    expect(lines).toHaveLength(EVENTS.length);
    for (const line of lines) expect(line).not.toContain('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => p['type'])).toEqual(EVENTS.map((e) => e.type));
    expect(parsed.every((p) => p['schema_version'] === 1)).toBe(true);
    expect(parsed[1]!['time']).toBe('2026-01-31T09:15:00.250Z');
    expect(lines.join('\n')).not.toContain('LARGE');
    expect(lines.join('\n')).not.toContain('durable');
    expect(parsed[3]!['text']).toBe('line "one"\nline two\n');
    expect(parsed.at(-1)).toMatchObject({ type: 'run-finished', run_id: 'r1', outputs: null, error: { class: 'exit:1' } });
  });
});

describe('schema/events.schema.json', () => {
  it('names every event type once, and the sequence above has each of them', () => {
    const types = schema.oneOf.map(
      (o) => (schema.$defs[o.$ref.split('/').at(-1)!] as { properties: { type: { const: string } } }).properties.type.const,
    );
    expect(new Set(types).size).toBe(types.length);
    expect(new Set(types)).toEqual(new Set(EVENTS.map((e) => e.type)));
  });

  it('accepts every line the reporter writes', () => {
    for (const line of ndjson(EVENTS)) expect(validate(JSON.parse(line)), `${line}\n${JSON.stringify(validate.errors)}`).toBe(true);
  });

  it.each([
    ['an unknown field', (l: Record<string, unknown>) => ({ ...l, extra: 1 })],
    ['a field of the wrong type', (l: Record<string, unknown>) => ({ ...l, item: 'one' })],
    ['a missing field', ({ run_id: _, ...l }: Record<string, unknown>) => l],
    ['an unknown event type', (l: Record<string, unknown>) => ({ ...l, type: 'step-exploded' })],
    ['another schema version', (l: Record<string, unknown>) => ({ ...l, schema_version: 2 })],
    ['an unknown field in a result', (l: Record<string, unknown>) => ({ ...l, result: { ...(l['result'] as object), extra: 1 } })],
  ])('rejects %s', (_, change) => {
    const finished = ndjson(EVENTS)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['type'] === 'step-finished')!;
    expect(validate(finished)).toBe(true);
    expect(validate(change(finished))).toBe(false);
  });
});
