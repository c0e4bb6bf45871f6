#!/usr/bin/env node
// The executable: loads the built CLI (npm install builds it) and exits with its code. CommonJS (bin/package.json),
// as dist/boot.cjs is: Node 20 then starts a command without its ES module loader, 5 ms sooner (bench/RESULTS.md).
'use strict';
const { join } = require('node:path');

// The CLI's bundles are compiled through a code cache of flow's own, and Node's compile cache serves the rest
// (dist/boot.cjs: src/cli/boot.ts, src/cli/code-cache.ts).
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
