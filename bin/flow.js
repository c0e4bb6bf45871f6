#!/usr/bin/env node
// The executable: loads the built CLI (npm install builds it) and exits with its code. CommonJS (bin/package.json),
// as dist/boot.cjs is: Node 20 then starts a command without its ES module loader, 5 ms sooner (bench/RESULTS.md).
'use strict';
const nodeModule = require('node:module');
const { homedir } = require('node:os');
const { isAbsolute, join } = require('node:path');

// flow's CLI bundles are compiled through a code cache of their own (dist/boot.cjs, src/cli/code-cache.ts). Node's
// compile cache (Node 22.1 and later) serves what Node itself loads (this file, dist/boot.cjs). Under the user's
// cache directory; NODE_COMPILE_CACHE chooses another and NODE_DISABLE_COMPILE_CACHE=1 turns both off, as for any
// Node program. A cache that cannot be written is no error.
if (nodeModule.enableCompileCache && !process.env.NODE_COMPILE_CACHE) {
  const cache = cacheHome();
  if (cache !== undefined) nodeModule.enableCompileCache(join(cache, 'flow', 'compile-cache'));
}

// As src/cli/boot.ts: a relative XDG_CACHE_HOME is ignored, and without a home there is no cache.
function cacheHome() {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return xdg;
  try {
    return join(homedir(), '.cache');
  } catch {
    return undefined;
  }
}

const dist = join(__dirname, '..', 'dist');
let boot;
try {
  boot = require(join(dist, 'boot.cjs'));
} catch (err) {
  if (err?.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('boot.cjs')) throw err;
  process.stderr.write('flow: not built yet; run `npm install` (or `npm run build`) in the flow checkout\n');
  process.exit(70);
}
boot.runCli(process.argv, dist).then((code) => {
  process.exitCode = code;
});
