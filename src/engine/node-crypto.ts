// node:crypto as Node's own object, never ES-imported: an ES import builds the module's namespace, which reads every
// export, and its Web Crypto getters then load Web Crypto (about 3 ms of a run's start-up on Node 20, measured
// interleaved).
export const { createHash, randomBytes, randomUUID, timingSafeEqual } = process.getBuiltinModule('node:crypto');
