import { describe, expect, it } from 'vitest';
import { evaluateCondition, renderText, resolveValue } from '../../src/engine/expressions.js';
import { StepFailure } from '../../src/engine/step-failure.js';

const scope = {
  inputs: { n: 3, name: 'ada', list: [1, 2] },
  steps: { a: { output: { body: 'hi', json: { k: 'v' } }, status: 'succeeded' } },
  run: { id: 'r1' },
  previous: 'prev',
};

describe('resolveValue', () => {
  it.each([
    ['${{ inputs.n }}', 3],
    ['  ${{ inputs.n }}  ', 3],
    ['${{ inputs.list }}', [1, 2]],
    ['${{ steps.a.output.json }}', { k: 'v' }],
    ['n=${{ inputs.n }}', 'n=3'],
    ['${{ inputs.name }}/${{ run.id }}', 'ada/r1'],
    ['json: ${{ steps.a.output.json }}', 'json: {"k":"v"}'],
    ['missing: [${{ inputs.nope }}]', 'missing: []'],
    ['${{ inputs.nope }}', null],
    ['${{ previous }}', 'prev'],
    ['no expression', 'no expression'],
    [42, 42],
  ])('%j -> %j', async (value, expected) => {
    expect(await resolveValue(value, scope)).toEqual(expected);
  });

  it('resolves inside lists and mappings, keeping keys', async () => {
    expect(await resolveValue({ a: ['${{ inputs.n }}', { b: '${{ inputs.name }}' }] }, scope)).toEqual({ a: [3, { b: 'ada' }] });
  });

  it('turns an evaluation error into a StepFailure of class expression', async () => {
    const err = (await resolveValue('${{ $number("x") }}', scope).catch((e: unknown) => e)) as StepFailure;
    expect(err).toBeInstanceOf(StepFailure);
    expect(err.errorClass).toBe('expression');
  });
});

describe('evaluateCondition', () => {
  it.each([
    [undefined, true],
    [false, false],
    ["steps.a.status = 'succeeded'", true],
    ["${{ steps.a.status = 'failed' }}", false],
    ['inputs.nope', false],
    ['inputs.list', true],
  ])('%j -> %j', async (condition, expected) => {
    expect(await evaluateCondition(condition as string | boolean | undefined, scope)).toBe(expected);
  });
});

describe('renderText', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    ['s', 's'],
    [1.5, '1.5'],
    [true, 'true'],
    [{ a: 1 }, '{"a":1}'],
  ])('%j -> %j', (value, expected) => {
    expect(renderText(value)).toBe(expected);
  });
});
