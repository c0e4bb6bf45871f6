import { readFile } from 'node:fs/promises';
import { InputError, UsageError } from '../model/errors.js';
import type { OutputFlags } from '../report/output-mode.js';
import type { Durability } from '../state/sqlite-open.js';

// The flags `flow run` and `flow resume` share, checked before anything is opened.

/** What commander gives both commands (src/cli/main.ts, withDriverOptions, and their --input flags). */
export interface DriverFlags extends OutputFlags {
  input: string[];
  inputs?: string;
  state?: string;
  maxConcurrency?: string;
  cache?: boolean;
  durability?: string;
  /** Not a flag: inputs as JSON values, from the API (flow serve). */
  inputValues?: Record<string, unknown>;
  /** Not a flag: called once the run is recorded and about to run, with its id (flow serve answers with it). */
  onStart?: (runId: string) => void;
}

export function parseDurability(value: string | undefined): Durability {
  if (value === undefined || value === 'normal' || value === 'full') return value ?? 'normal';
  throw new UsageError(`--durability must be normal or full, got '${value}'`);
}

export function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--max-concurrency must be a whole number of at least 1, got '${value}'`);
  return n;
}

export function parseInputFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input '${flag}' is not name=value`, 'write --input name=value');
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}

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
