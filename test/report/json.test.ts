import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/events.js';
import { jsonReporter } from '../../src/report/json.js';
import {
  cacheHit,
  log,
  runFinished,
  runStarted,
  stepError,
  stepFinished,
  stepItems,
  stepOutput,
  stepRestored,
  stepRetrying,
  stepTokens,
  stepStarted,
} from '../helpers/events.js';
import { expectGolden } from '../helpers/golden.js';
import { aResult } from '../helpers/records.js';

const SCHEMA_PATH = join(import.meta.dirname, '..', '..', 'schema', 'events.schema.json');
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { oneOf: { $ref: string }[]; $defs: Record<string, unknown> };
const validate = new Ajv2020({ allErrors: true }).compile(schema);

const T0 = Date.parse('2026-01-31T09:15:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

// A run that shows every event type: a retried step (whose failed attempt's model calls cost something), a for_each, a skip, a cache hit, a restored step, a child run,
// output with a newline and a quote in it, and a run that fails with outputs unset.
const EVENTS: FlowEvent[] = [
  runStarted(
    { id: 'r1', workflowName: 'demo', workflowPath: '/w/demo.yaml', definition: 'steps: [LARGE]', inputs: { who: 'ada', token: '***' } },
    { resumed: true },
  ),
  stepRestored('setup', aResult('succeeded', { output: { stdout: 'ok\n' } })),
  stepStarted('build', { at: at(1) }),
  stepOutput('build', 'line "one"\nline two\n'),
  stepRetrying('build', 1, 1500, stepError('exit code 1'), {
    at: at(2),
    ai: {
      calls: 2,
      models: ['gpt-4o', 'gpt-4o-mini'],
      promptTokens: 1200,
      completionTokens: 80,
      cachedTokens: 1000,
      cost: 0.000123,
      unpriced: 1,
    },
  }),
  stepStarted('build', { attempt: 2, at: at(4) }),
  stepOutput('build', 'warn: ***', { attempt: 2, stream: 'stderr' }),
  stepTokens('build', 'Spam, bec', { attempt: 2 }),
  stepFinished('build', 4000, {
    attempts: 2,
    output: { exit_code: 0, stdout: 'x' },
    outputs: { word: 'x' },
    startedAt: at(1),
    endedAt: at(5),
  }),
  stepItems('each', 2),
  cacheHit('each', 'k0', { item: 0 }),
  stepFinished(
    'each',
    5000,
    { status: 'failed', error: stepError('timed out after 5s', 'timeout'), reason: 'continue_on_error', masked: true },
    { item: 1 },
  ),
  stepFinished('later', 0, { status: 'skipped', attempts: 0, reason: 'if: false was false', endedAt: undefined }, { durable: false }),
  runStarted({ id: 'c1', parentRunId: 'r1', workflowName: 'child', workflowPath: '/w/child.yaml' }),
  runFinished('succeeded', 12, { runId: 'c1', outputs: { n: 1 }, at: at(6) }),
  log('warning', 'careful'),
  runFinished('failed', 7000, { error: stepError("step 'x' failed"), at: at(7) }),
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
