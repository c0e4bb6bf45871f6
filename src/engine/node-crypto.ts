// node:crypto as Node's own object, never ES-imported: an ES import builds the module's namespace, which reads every
// export, and its Web Crypto getters then load Web Crypto (3 ms in a bare `node -e` on Node 20; within the noise of a
// whole run).
export const { createHash, hash, randomBytes, randomUUID, timingSafeEqual } = process.getBuiltinModule('node:crypto');
