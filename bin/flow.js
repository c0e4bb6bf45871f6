#!/usr/bin/env node
// The executable: loads the built CLI (npm install builds it) and exits with its code.
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

// V8 keeps what it compiled of flow's code between runs (Node 22.1 and later): 13-23 ms off a command's start
// (bench/RESULTS.md). Under the user's cache directory; NODE_COMPILE_CACHE chooses another and
// NODE_DISABLE_COMPILE_CACHE=1 turns it off, as for any Node program. A cache that cannot be written is no error.
if (module.enableCompileCache && !process.env.NODE_COMPILE_CACHE) {
  module.enableCompileCache(join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flow', 'compile-cache'));
}

let cli;
try {
  cli = await import('../dist/cli.mjs');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write('flow: not built yet; run `npm install` (or `npm run build`) in the flow checkout\n');
  process.exit(70);
}
process.exitCode = await cli.main(process.argv);
