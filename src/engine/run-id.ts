import { randomBytes } from './node-crypto.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

// Sortable, unique run ids: 10 characters of time (ms) then 10 of randomness, Crockford base32 like a ULID.
export function newRunId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  let random = '';
  for (const b of bytes) random += ALPHABET[b % 32];
  return time + random;
}
