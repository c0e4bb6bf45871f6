import { createRequire } from 'node:module';

// JSONata is loaded on first use, synchronously: validating a file whose expressions are all plain paths
// (inputs.name, steps.fetch.output.body) does not need it, and loading it costs more than checking them.
const load = createRequire(import.meta.url);

let jsonata: typeof import('jsonata') | undefined;
export function jsonataLibrary(): typeof import('jsonata') {
  jsonata ??= load('jsonata') as typeof import('jsonata');
  return jsonata;
}
