import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes, sha256Hex } from '../../src/engine/node-crypto.js';
import { sha256Hex as sha256InJs } from '../../src/engine/sha256.js';

const nodeDigest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('SHA-256 in JavaScript', () => {
  it("gives node:crypto's digest: every length around the 64-byte blocks, and any text", () => {
    for (let n = 0; n <= 200; n++) expect(sha256InJs('a'.repeat(n)), `${n} bytes`).toBe(nodeDigest('a'.repeat(n)));
    expect(sha256InJs('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(sha256InJs(text)).toBe(nodeDigest(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('node-crypto', () => {
  it('hashes the same by JavaScript and, past its budget, by node:crypto', () => {
    const small = 'steps:\n  - { id: a, type: shell, config: { run: "true" } }\n';
    const large = small.repeat(100);
    for (const text of [small, large, small, 'é😀'.repeat(50)]) expect(sha256Hex(text)).toBe(nodeDigest(text));
  });

  it('gives random bytes of the size asked, different each time', () => {
    const a = randomBytes(16);
    const b = randomBytes(16);
    expect([a.length, b.length]).toEqual([16, 16]);
    expect(a.equals(b)).toBe(false);
    expect(randomBytes(0).length).toBe(0);
  });
});
