import { createRequire } from 'node:module';

// Set by scripts/build.mjs in the bundles.
declare const __FLOW_BUNDLED__: boolean | undefined;

// JSONata is loaded on first use, synchronously: validating a file whose expressions are all plain paths
// (inputs.name, steps.fetch.output.body) does not need it, and loading it costs more than checking them.
// The minified build loads faster (measured cold: 9 ms, against 16 ms for jsonata.js). In a bundle it is bundled, to
// run on first use, and the CLI's code cache keeps what V8 compiled of it (src/cli/code-cache.ts); from source (the
// tests), Node loads it.
let jsonata: typeof import('jsonata') | undefined;
export function jsonataLibrary(): typeof import('jsonata') {
  jsonata ??= (
    typeof __FLOW_BUNDLED__ === 'boolean' ? require('jsonata/jsonata.min.js') : createRequire(import.meta.url)('jsonata/jsonata.min.js')
  ) as typeof import('jsonata');
  return jsonata;
}
