#!/usr/bin/env node
// The executable: loads the built CLI (npm install builds it) and exits with its code.
let cli;
try {
  cli = await import('../dist/cli.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write('flow: not built yet; run `npm install` (or `npm run build`) in the flow checkout\n');
  process.exit(70);
}
process.exitCode = await cli.main(process.argv);
