import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { resolveInputs } from '../../engine/inputs.js';
import { FLOW_BUILD } from '../../engine/build-id.js';
import { newRunId } from '../../engine/run-id.js';
import { definitionHash } from '../../engine/run-workflow.js';
import { executorTable } from '../../executors/custom.js';
import { InputError, UsageError } from '../../model/errors.js';
import type { Durability } from '../../state/sqlite-open.js';
import { openSqliteStore } from '../../state/sqlite-store.js';
import { driveRun, signalExit } from '../drive-run.js';
import type { CommandIO } from '../io.js';
import { loadWorkflowForRun } from '../load-workflow.js';
import { statePath } from '../state-path.js';

// `flow resume` takes it from here too.
export { statePath };

export interface RunCommandOptions {
  input: string[];
  inputs?: string;
  state?: string;
  maxConcurrency?: string;
  dryRun?: boolean;
  cache?: boolean;
  durability?: string;
}

// `flow run FILE`: validate, check inputs, then run with every state change committed to the state file.
export async function runCommand(file: string, options: RunCommandOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const maxConcurrency = parseConcurrency(options.maxConcurrency);
  const durability = parseDurability(options.durability);
  const { workflow, text } = await loadWorkflowForRun(file, io);
  const given = { ...(options.inputs ? await readInputsFile(resolve(io.cwd, options.inputs)) : {}), ...parseInputFlags(options.input) };
  const inputs = resolveInputs(workflow.inputs, given);
  if (options.dryRun) {
    const { dryRun } = await import('./dry-run.js');
    return dryRun(workflow, inputs, io);
  }
  const executors = await executorTable(workflow);
  // Stopped while validating: nothing has started, so nothing is recorded.
  if (signal.aborted) {
    io.stderr('flow: interrupted before the run started; nothing was run');
    return signalExit(signal);
  }
  const path = statePath(options.state, io);
  const store = openSqliteStore(path, { durability });
  try {
    // Kept so that a resume of a large workflow loads its model instead of parsing and checking the text again.
    store.saveModel(definitionHash(text), FLOW_BUILD, workflow);
    const run = {
      store,
      statePath: path,
      workflow,
      text,
      inputs,
      executors,
      runId: newRunId(),
      maxConcurrency,
      noCache: options.cache === false,
    };
    return await driveRun(run, io, signal);
  } finally {
    store.close();
  }
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
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new InputError(`the inputs file '${path}' does not parse: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new InputError(`the inputs file '${path}' must hold a mapping of input names to values`);
  return data as Record<string, unknown>;
}
