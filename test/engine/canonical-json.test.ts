import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/engine/canonical-json.js';

// The text canonicalJson gave before it wrote JSON itself: recorded shapes and cache keys are compared with it, so the
// two must agree on every value, or a resume after an upgrade would see drift where there is none.
function sortedCopies(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (typeof v === 'object' && v !== null) {
      const record = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(record)
          .sort()
          .map((k) => [k, sortKeys(record[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

const outcome = (f: () => string) => {
  try {
    return { text: f() };
  } catch (err) {
    return { threw: (err as Error).constructor.name };
  }
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves out what JSON leaves out', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, undefined, () => 1], c: undefined }, 10: 'x', 9: 'y' })).toBe(
      '{"9":"y","10":"x","a":{"d":[3,null,null]},"b":1}',
    );
    expect(canonicalJson(undefined)).toBe('undefined');
    const holed: unknown[] = [1];
    holed[2] = 2;
    expect(canonicalJson(holed)).toBe('[1,null,2]');
  });

  it('gives the text the sorted-copy version gave, for any value', () => {
    const values = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    fc.assert(
      fc.property(values, (value) => {
        expect(outcome(() => canonicalJson(value))).toEqual(outcome(() => sortedCopies(value)));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders index-like keys as an object holds them', () => {
    const keys = fc.oneof(fc.nat().map(String), fc.constantFrom('4294967294', '4294967295', '01', '-1', '1.5'), fc.string());
    fc.assert(
      fc.property(fc.dictionary(keys, fc.integer()), (record) => {
        expect(canonicalJson(record)).toBe(sortedCopies(record));
      }),
      { numRuns: 1000 },
    );
  });
});
