import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/model/iso-time.js';

describe('isoTime', () => {
  it('gives Date’s ISO text for every time, when times repeat and when they change', () => {
    const time = fc.integer({ min: -8.64e15, max: 8.64e15 });
    // Runs of the same millisecond and jumps between them, as a run's clock gives them.
    const times = fc.array(fc.tuple(time, fc.integer({ min: 1, max: 4 })), { maxLength: 20 });
    fc.assert(
      fc.property(times, (runs) => {
        for (const [ms, n] of runs) for (let i = 0; i < n; i++) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
    );
  });

  it('refuses a time Date cannot write, as Date does', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
