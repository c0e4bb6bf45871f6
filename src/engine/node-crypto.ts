import type * as NodeCrypto from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { sha256Hex as sha256InJs } from './sha256.js';

// node:crypto as Node's own object, never ES-imported: an ES import builds the module's namespace, which reads every
// export, and its Web Crypto getters then load Web Crypto (3 ms in a bare `node -e` on Node 20; within the noise of a
// whole run). Taken on first use, and not for what a short run needs: loading it costs a command 3.4-4.4 ms (its
// 16-19 internal modules; `node -e` has them loaded already, a script does not), where `flow run` of a small workflow
// hashes a few hundred characters and takes 34 random bytes.
let crypto: typeof NodeCrypto | undefined;
const nodeCrypto = (): typeof NodeCrypto => (crypto ??= process.getBuiltinModule('node:crypto'));

/**
 * Characters a process hashes in JavaScript before it loads node:crypto for the rest: what a small run hashes (a few
 * hundred), and well under what the module's load costs in hashing done cold (about 1 ms here; 4,000 take 3-7 ms).
 */
const HASHED_IN_JS = 1024;
let hashedInJs = 0;

/** SHA-256 of `text`'s UTF-8 bytes in hex: the same digest by JavaScript (sha256.ts) or by node:crypto. */
export function sha256Hex(text: string): string {
  if (crypto === undefined && hashedInJs + text.length <= HASHED_IN_JS) {
    hashedInJs += text.length;
    return sha256InJs(text);
  }
  // The one-shot hash: half the time of a Hash object.
  return nodeCrypto().hash('sha256', text, 'hex');
}

/**
 * Random bytes from the kernel's generator (the character device /dev/urandom), else from node:crypto. Not on Windows,
 * where /dev/urandom would be a path on the current drive that anyone may create.
 */
export function randomBytes(size: number): Buffer {
  if (crypto === undefined && process.platform !== 'win32') {
    try {
      const fd = openSync('/dev/urandom', 'r');
      try {
        const bytes = Buffer.alloc(size);
        if (fstatSync(fd).isCharacterDevice() && readSync(fd, bytes, 0, size, null) === size) return bytes;
      } finally {
        closeSync(fd);
      }
    } catch {
      // No such device here: node:crypto's.
    }
  }
  return nodeCrypto().randomBytes(size);
}

export const timingSafeEqual: typeof NodeCrypto.timingSafeEqual = (...args) => nodeCrypto().timingSafeEqual(...args);
