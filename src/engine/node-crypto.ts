import type * as NodeCrypto from 'node:crypto';

// node:crypto as Node's own object, never ES-imported: an ES import builds the module's namespace, which reads every
// export, and its Web Crypto getters then load Web Crypto (3 ms in a bare `node -e` on Node 20; within the noise of a
// whole run). Taken on first use: `flow validate` loads the modules that import these and hashes nothing, and loading
// node:crypto costs it milliseconds.
let crypto: typeof NodeCrypto | undefined;
const nodeCrypto = (): typeof NodeCrypto => (crypto ??= process.getBuiltinModule('node:crypto'));

export const createHash: typeof NodeCrypto.createHash = (...args) => nodeCrypto().createHash(...args);
export const hash = ((...args: Parameters<typeof NodeCrypto.hash>) => nodeCrypto().hash(...args)) as typeof NodeCrypto.hash;
export const randomBytes = ((size: number) => nodeCrypto().randomBytes(size)) as (size: number) => Buffer;
export const randomUUID: typeof NodeCrypto.randomUUID = (...args) => nodeCrypto().randomUUID(...args);
export const timingSafeEqual: typeof NodeCrypto.timingSafeEqual = (...args) => nodeCrypto().timingSafeEqual(...args);
