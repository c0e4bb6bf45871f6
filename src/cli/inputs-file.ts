import { readFile } from 'node:fs/promises';
import { InputError } from '../model/errors.js';

// --inputs FILE: a JSON or YAML mapping of input names to values. The YAML parser loads only for a YAML file: a run
// that takes its checked workflow from the state file has not loaded it (src/cli/kept-model.ts).
export async function readInputsFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(`cannot read the inputs file '${path}'`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (err) {
    throw new InputError(`the inputs file '${path}' does not parse: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new InputError(`the inputs file '${path}' must hold a mapping of input names to values`);
  return data as Record<string, unknown>;
}
