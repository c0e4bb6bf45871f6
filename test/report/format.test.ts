import { describe, expect, it } from 'vitest';
import { completeLines } from '../../src/report/format.js';

describe('completeLines', () => {
  it('gives whole lines as they complete, keeping the rest for the next chunk', () => {
    const partial = new Map<string, string>();
    expect(completeLines(partial, 'a', 'one\ntw')).toEqual(['one']);
    expect(completeLines(partial, 'b', 'other')).toEqual([]);
    expect(completeLines(partial, 'a', 'o\nthree\n')).toEqual(['two', 'three']);
    expect(partial.get('a')).toBe('');
    expect(partial.get('b')).toBe('other');
  });

  it('shows a line that never ends in pieces of 64 KiB, holding no more than that', () => {
    const partial = new Map<string, string>();
    const chunk = 'x'.repeat(10_000);
    const shown: string[] = [];
    for (let i = 0; i < 20; i++) shown.push(...completeLines(partial, 'a', chunk));
    expect(shown.map((l) => l.length)).toEqual([70_000, 70_000]);
    expect(partial.get('a')?.length).toBe(60_000);
  });
});
