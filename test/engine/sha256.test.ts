import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { sha256Hex as sha256InJs } from '../../src/engine/sha256.js';

const nodeDigest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('SHA-256 in JavaScript', () => {
  it("gives node:crypto's digest: every length around the 64-byte blocks, and any text", () => {
    for (let n = 0; n <= 200; n++) expect(sha256InJs('a'.repeat(n)), `${n} bytes`).toBe(nodeDigest('a'.repeat(n)));
    expect(sha256InJs('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Lone surrogates: both sides encode them as U+FFFD.
    for (const text of ['\ud800', 'a\udc00', '\ud83d', '😀\ud83d']) expect(sha256InJs(text), JSON.stringify(text)).toBe(nodeDigest(text));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(sha256InJs(text)).toBe(nodeDigest(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('node-crypto', () => {
  // A module of its own per test (its budget and whether it loaded node:crypto are per module), and the loads of
  // node:crypto it asks Node for counted.
  const fresh = async () => {
    vi.resetModules();
    return import('../../src/engine/node-crypto.js');
  };
  const countCryptoLoads = () => {
    const spy = vi.spyOn(process, 'getBuiltinModule');
    return { count: () => spy.mock.calls.filter(([id]) => id === 'node:crypto').length, restore: () => spy.mockRestore() };
  };

  it("hashes a small run's texts in JavaScript and, past its budget, with node:crypto: the same digests", async () => {
    const { sha256Hex } = await fresh();
    const loads = countCryptoLoads();
    try {
      const small = ['steps:\n  - { id: a, type: shell, config: { run: "true" } }\n', 'é😀\ud800', ''];
      for (const text of small) expect(sha256Hex(text)).toBe(nodeDigest(text));
      expect(loads.count()).toBe(0);
      const large = 'x'.repeat(2000);
      expect(sha256Hex(large)).toBe(nodeDigest(large));
      expect(sha256Hex(small[0]!)).toBe(nodeDigest(small[0]!));
      expect(loads.count()).toBeGreaterThan(0);
    } finally {
      loads.restore();
    }
  });

  it('gives random bytes of the size asked, different each time, from /dev/urandom', async () => {
    const { randomBytes } = await fresh();
    const loads = countCryptoLoads();
    try {
      const a = randomBytes(16);
      const b = randomBytes(16);
      expect([a.length, b.length, randomBytes(0).length]).toEqual([16, 16, 0]);
      expect(a.equals(b)).toBe(false);
      expect(loads.count()).toBe(0);
    } finally {
      loads.restore();
    }
  });
});
