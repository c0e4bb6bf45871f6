import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/engine/expressions.js';
import { StepFailure } from '../../../src/engine/step-failure.js';
import {
  compileDirect,
  type DirectEvaluator,
  directPlainPath,
  type JsonataNode,
  plainPath,
  UNSURE,
} from '../../../src/language/expressions/direct.js';

function direct(source: string): DirectEvaluator | undefined {
  const plain = plainPath(source);
  return plain ? directPlainPath(plain) : compileDirect(jsonata(source).ast() as JsonataNode);
}

async function byJsonata(source: string, scope: object): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await jsonata(source).evaluate(scope) };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? 'thrown' };
  }
}

// Scopes whose names the generated expressions use, holding every kind of JSON value, and JSONata's own sequences.
const NAMES = ['a', 'b', 'c'] as const;
const sequence = (...items: unknown[]) => Object.assign([...items], { sequence: true });
const leaf = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: false }),
  fc.constantFrom('', 'x', 'y', 'ab', 'a', '0', 'true'),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(sequence(), sequence(1), sequence(1, 2), Number.POSITIVE_INFINITY),
);
const { value: scopeValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...NAMES), tie('value'), { maxKeys: 3 }),
  ),
}));
const scopeArbitrary = fc.dictionary(fc.constantFrom(...NAMES), scopeValue, { maxKeys: 3 });

const { expression } = fc.letrec((tie) => ({
  expression: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((names) => names.join('.')),
    fc.constantFrom('1', '0', '-2', '2.5', '"x"', '"ab"', '""', 'true', 'false', 'null'),
    fc
      .tuple(
        tie('expression'),
        fc.constantFrom('+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', '&'),
        tie('expression'),
      )
      .map(([l, op, r]) => `(${l}) ${op} (${r})`),
    tie('expression').map((e) => `-(${e})`),
    fc.tuple(tie('expression'), tie('expression'), tie('expression')).map(([t, y, n]) => `(${t}) ? (${y}) : (${n})`),
    fc.tuple(tie('expression'), tie('expression')).map(([t, y]) => `(${t}) ? (${y})`),
    fc.tuple(tie('expression'), tie('expression')).map(([x, y]) => `(${x}; ${y})`),
    fc.constantFrom('a[0]', 'a.b[0]', 'a[]', '$count(a)', 'a.*', '**.a', 'a^(b)', 'a{"k": b}', '[a, b]', 'a in [1, 2]'),
  ),
}));

// One operator between two operands, each a literal of any JSON kind or a path into the scope: every operator is
// met often with operands of every type.
const OPERATORS = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or'] as const;
const literal = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((n) => JSON.stringify(n)),
  fc.constantFrom('"x"', '"y"', '""', '"10"', '"9"', 'true', 'false', 'null'),
);
const operand = fc.oneof(literal, fc.constantFrom('a', 'b', 'a.b', 'b.c'));
const primitiveScope = fc.record({
  a: fc.oneof(fc.integer({ min: -9, max: 9 }), fc.double(), fc.constantFrom('x', '10', true, null), fc.record({ b: fc.integer() })),
  b: fc.oneof(fc.integer({ min: -9, max: 9 }), fc.constantFrom('9', false), fc.record({ c: fc.double({ noNaN: true }) })),
});

describe('direct evaluation of expressions', () => {
  it('computes every operator as JSONata does, for operands of every type', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(operand, fc.constantFrom(...OPERATORS), operand, primitiveScope, async (left, op, right, scope) => {
        const source = `${left} ${op} ${right}`;
        const answer = direct(source)!(scope);
        if (answer === UNSURE) return;
        answered++;
        expect(await byJsonata(source, scope)).toEqual({ value: answer });
      }),
      { numRuns: 3000 },
    );
    expect(answered).toBeGreaterThan(1000);
  });

  it('agrees with JSONata wherever it answers, and leaves to it every error', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(expression as fc.Arbitrary<string>, scopeArbitrary, async (source, scope) => {
        const evaluator = direct(source);
        if (!evaluator) return;
        const answer = evaluator(scope);
        if (answer === UNSURE) return;
        answered++;
        const expected = await byJsonata(source, scope);
        expect(expected).toEqual({ value: answer });
        if (Array.isArray(answer) || (typeof answer === 'object' && answer !== null)) {
          expect(answer).toBe((expected as { value: unknown }).value);
        }
      }),
      { numRuns: 3000 },
    );
    // Most generated cases must be answered directly, or the property says little.
    expect(answered).toBeGreaterThan(500);
  });

  it.each([
    ['item + 1', { item: 41 }, 42],
    ['steps.s1.output * 2 - 1', { steps: { s1: { output: 5 } } }, 9],
    ['inputs.name', { inputs: { name: 'ada' } }, 'ada'],
    ['steps.check.output = "ok"', { steps: { check: { output: 'ok' } } }, true],
    ['inputs.n > 2 and inputs.n <= 3', { inputs: { n: 3 } }, true],
    ['inputs.missing + 1', { inputs: {} }, undefined],
    ['inputs.missing = "x"', { inputs: {} }, false],
    ['inputs.flag ? "yes" : "no"', { inputs: { flag: false } }, 'no'],
    ['steps.list.output', { steps: { list: { output: [1, [2, 3]] } } }, [1, [2, 3]]],
  ])('answers %s directly', (source, scope, value) => {
    const evaluator = direct(source);
    expect(evaluator).toBeDefined();
    expect(evaluator!(scope)).toEqual(value);
  });

  it.each([
    ['a.b', { a: [{ b: 1 }, { b: 2 }] }, [1, 2]],
    ['a', { a: sequence(7) }, 7],
    ['a + 1', { a: '1' }, undefined],
    ['a > 1', { a: '2' }, undefined],
    ['a and true', { a: 'text' }, true],
    ['-a', { a: Number.POSITIVE_INFINITY }, undefined],
  ])('leaves %s with %j to JSONata', async (source, scope, value) => {
    expect(direct(source)!(scope)).toBe(UNSURE);
    if (value === undefined) {
      await expect(evaluate(source, scope)).rejects.toBeInstanceOf(StepFailure);
    } else {
      // JSON's view: JSONata marks its result sequences with a property that toEqual would see.
      expect(JSON.parse(JSON.stringify(await evaluate(source, scope)))).toEqual(value);
    }
  });

  it('reads as a plain path only what JSONata reads as one', async () => {
    // A reserved word after a dot is a syntax error to JSONata; a no-break space is part of a name to it.
    for (const source of ['a.true', 'a.null', 'a.false', 'a.and.b', '\u00a0a', 'a\u2028'])
      expect(plainPath(source), source).toBeUndefined();
    expect(plainPath(' \t\na.b\r\v')).toEqual({ root: 'a', path: ['b'], start: 3 });
    // Only JSONata's own function objects (marked true) are functions to it: data may carry the same keys.
    for (const marks of [{ _jsonata_function: false }, { _jsonata_lambda: 0 }]) {
      const scope = { a: { ...marks, b: 1 } };
      expect(direct('a.b')!(scope)).toBe(1);
      expect(await byJsonata('a.b', scope)).toEqual({ value: 1 });
    }
    expect(direct('a.b')!({ a: { _jsonata_function: true, b: 1 } })).toBeUndefined();
  });

  it('does not compile forms whose meaning is more than a lookup or an operator', () => {
    for (const source of [
      'a[0]',
      'a.b[0]',
      'a[]',
      '$count(a)',
      '$x',
      'a.*',
      '**.a',
      'a^(b)',
      'a{"k": b}',
      '[a, b]',
      'a in [1]',
      'a & b',
      '/x/',
    ]) {
      expect(direct(source), source).toBeUndefined();
    }
  });
});
