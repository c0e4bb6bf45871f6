import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { childRunner } from '../../engine/child-runs.js';
import { resolveInputs } from '../../engine/inputs.js';
import { newRunId } from '../../engine/run-id.js';
import { runWorkflow } from '../../engine/run-workflow.js';
import { StepFailure } from '../../engine/step-failure.js';
import { executorTable } from '../../executors/custom.js';
import { EXIT, InputError, UsageError } from '../../model/errors.js';
import { plainReporter } from '../../report/plain.js';
import { openSqliteStore } from '../../state/sqlite-store.js';
import { recordEvents } from '../../state/record-events.js';
import type { CommandIO } from '../io.js';
import { loadWorkflowForRun } from '../load-workflow.js';

export interface RunCommandOptions {
  input: string[];
  inputs?: string;
  state?: string;
  maxConcurrency?: string;
  dryRun?: boolean;
}

// `flow run FILE`: validate, check inputs, then run with every state change committed to the state file.
export async function runCommand(file: string, options: RunCommandOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const maxConcurrency = parseConcurrency(options.maxConcurrency);
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
    return signal.reason instanceof StepFailure && signal.reason.message.includes('SIGTERM') ? EXIT.terminated : EXIT.interrupted;
  }
  const store = openSqliteStore(statePath(options.state, io));
  try {
    const runId = newRunId();
    const listeners = [recordEvents(store), plainReporter((line) => io.stderr(line))];
    const base = { store, listeners, cwd: io.cwd, maxConcurrency };
    const outcome = await runWorkflow({
      ...base,
      workflow,
      definition: text,
      inputs,
      executors,
      runId,
      signal,
      runChild: childRunner(base, () => runId),
    });
    if (outcome.outputs && Object.keys(outcome.outputs).length > 0) io.stdout(JSON.stringify(outcome.outputs, null, 2));
    if (outcome.status === 'succeeded') return EXIT.ok;
    if (outcome.status === 'interrupted')
      return signal.reason instanceof StepFailure && signal.reason.message.includes('SIGTERM') ? EXIT.terminated : EXIT.interrupted;
    return EXIT.failed;
  } finally {
    store.close();
  }
}

export function statePath(flag: string | undefined, io: CommandIO): string {
  return resolve(io.cwd, flag ?? process.env['FLOW_STATE'] ?? '.flow/state.db');
}

function parseConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--max-concurrency must be a whole number of at least 1, got '${value}'`);
  return n;
}

function parseInputFlags(flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input '${flag}' is not name=value`, 'write --input name=value');
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}

async function readInputsFile(path: string): Promise<Record<string, unknown>> {
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
