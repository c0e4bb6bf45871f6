#!/usr/bin/env node
// The executable: loads the built CLI (npm install builds it) and exits with its code.
// Node's modules as Node's own objects: an ES import of one builds its namespace, reading every export.
const module = process.getBuiltinModule('node:module');
const { homedir } = process.getBuiltinModule('node:os');
const { join } = process.getBuiltinModule('node:path');

// flow's CLI bundles are compiled through a code cache of their own (dist/boot.mjs, src/cli/code-cache.ts). Node's
// compile cache (Node 22.1 and later) serves what Node itself loads: this file's import, the packages flow requires
// by path (JSONata). Under the user's cache directory; NODE_COMPILE_CACHE chooses another and
// NODE_DISABLE_COMPILE_CACHE=1 turns both off, as for any Node program. A cache that cannot be written is no error.
if (module.enableCompileCache && !process.env.NODE_COMPILE_CACHE) {
  module.enableCompileCache(join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flow', 'compile-cache'));
}

let boot;
try {
  boot = await import('../dist/boot.mjs');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write('flow: not built yet; run `npm install` (or `npm run build`) in the flow checkout\n');
  process.exit(70);
}
process.exitCode = await boot.runCli(process.argv);
