import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { strictForm } from '../../../src/executors/ai/strict-schema.js';

// The strict form of a response_schema: what strict mode takes, and answers that, once restored, match the
// schema as the user wrote it.

type Schema = Record<string, unknown>;
const ajv = new Ajv({ strict: false });

/** Strict mode's rules: every object closed with every property required, all the way down. */
function meetsStrictRules(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(meetsStrictRules);
  if (typeof schema !== 'object' || schema === null) return true;
  const s = schema as Schema;
  if (s['type'] === 'object' || (Array.isArray(s['type']) && s['type'].includes('object'))) {
    const names = Object.keys((s['properties'] as Schema) ?? {});
    const required = (s['required'] as string[]) ?? [];
    if (s['additionalProperties'] !== false || names.some((n) => !required.includes(n))) return false;
  }
  return Object.values(s).every(meetsStrictRules);
}

describe('strictForm', () => {
  it('makes optional properties required and nullable, closes every object, and takes the nulls out again', () => {
    const schema = {
      type: 'object',
      properties: {
        label: { enum: ['spam', 'ham'] },
        note: { type: 'string' },
        tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, weight: { type: 'number' } } } },
        maybe: { type: ['integer', 'null'] },
      },
      required: ['label'],
    };
    const strict = strictForm(schema)!;
    expect(strict.schema).toEqual({
      type: 'object',
      properties: {
        label: { enum: ['spam', 'ham'] },
        note: { type: ['string', 'null'] },
        tags: {
          type: ['array', 'null'],
          items: {
            type: 'object',
            properties: { name: { type: ['string', 'null'] }, weight: { type: ['number', 'null'] } },
            required: ['name', 'weight'],
            additionalProperties: false,
          },
        },
        maybe: { type: ['integer', 'null'] },
      },
      required: ['label', 'note', 'tags', 'maybe'],
      additionalProperties: false,
    });
    // A null where the property could be left out goes; a null the schema itself allows stays.
    expect(strict.restore({ label: 'ham', note: null, tags: [{ name: 'a', weight: null }], maybe: null })).toEqual({
      label: 'ham',
      tags: [{ name: 'a' }],
      maybe: null,
    });
  });

  it('leaves an enum without a type nullable through the enum', () => {
    const strict = strictForm({ type: 'object', properties: { level: { enum: ['low', 'high'] } } })!;
    expect(strict.schema['properties']).toEqual({ level: { enum: ['low', 'high', null] } });
    expect(strict.restore({ level: null })).toEqual({});
  });

  it.each([
    ['a root that is not an object', { type: 'array', items: { type: 'string' } }],
    ['an open map', { type: 'object', additionalProperties: { type: 'number' } }],
    ['additionalProperties: true', { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true }],
    ['allOf', { type: 'object', properties: { a: { allOf: [{ type: 'string' }] } } }],
    ['$ref', { type: 'object', properties: { a: { $ref: '#/$defs/a' } }, $defs: { a: { type: 'string' } } }],
    [
      'an anyOf branch with optional properties',
      { type: 'object', properties: { a: { anyOf: [{ type: 'object', properties: { b: {} } }] } } },
    ],
  ])('has none for %s', (_, schema) => {
    expect(strictForm(schema)).toBeUndefined();
  });

  it('for any schema of objects, arrays and scalars: the strict form meets strict mode’s rules, and a restored answer matches the original', () => {
    const scalar = fc.oneof(
      fc.constantFrom<Schema>(
        { type: 'string' },
        { type: 'number' },
        { type: 'integer' },
        { type: 'boolean' },
        { type: ['string', 'null'] },
      ),
      fc.constant<Schema>({ enum: ['a', 'b'] }),
    );
    const { node } = fc.letrec<{ node: Schema; object: Schema }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        tie('object'),
        tie('node').map((items) => ({ type: 'array', items })),
      ),
      object: fc
        .dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('node'), { maxKeys: 4 })
        .chain((properties) =>
          fc.record({
            properties: fc.constant(properties),
            required: fc.subarray(Object.keys(properties)),
            closed: fc.boolean(),
          }),
        )
        .map(({ properties, required, closed }) => ({
          type: 'object',
          properties,
          required,
          ...(closed ? { additionalProperties: false } : {}),
        })),
    }));
    const root = node.filter((s) => s['type'] === 'object');
    fc.assert(
      fc.property(root, fc.infiniteStream(fc.integer({ min: 0, max: 9 })), (schema, choices) => {
        const strict = strictForm(schema);
        expect(strict).toBeDefined();
        expect(meetsStrictRules(strict!.schema)).toBe(true);
        const answer = instanceOf(strict!.schema, choices[Symbol.iterator]());
        expect(ajv.validate(strict!.schema, answer)).toBe(true);
        expect(ajv.validate(schema, strict!.restore(answer)), JSON.stringify({ schema, answer })).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

/** An answer a strict-mode server could give for a strict schema: every property present, null where allowed. */
function instanceOf(schema: Schema, choices: Iterator<number>): unknown {
  const pick = () => choices.next().value as number;
  const types = Array.isArray(schema['type']) ? (schema['type'] as string[]) : [schema['type'] as string | undefined];
  if (Array.isArray(schema['enum'])) return schema['enum'][pick() % schema['enum'].length];
  if (types.includes('null') && pick() < 4) return null;
  const type = types.find((t) => t !== 'null');
  switch (type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema['properties'] as Record<string, Schema>).map(([k, s]) => [k, instanceOf(s, choices)]),
      );
    case 'array':
      return Array.from({ length: pick() % 3 }, () => instanceOf(schema['items'] as Schema, choices));
    case 'string':
      return 'x';
    case 'boolean':
      return pick() % 2 === 0;
    default:
      return pick();
  }
}
