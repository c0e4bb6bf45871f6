import { resolve } from 'node:path';
import { resolveInputs } from '../../engine/inputs.js';
import { secretValues } from '../../engine/masking.js';
import { newRunId } from '../../engine/run-id.js';
import { keptResults } from '../../engine/resume-plan.js';
import { definitionHash } from '../../engine/run-workflow.js';
import type { Workflow } from '../../model/workflow.js';
import type { StoredStepResult } from '../../state/run-store.js';
import { executorTable } from '../../executors/custom.js';
import { openSqliteStore } from '../../state/sqlite-store.js';
import { driveRun, signalExit } from '../drive-run.js';
import type { CommandIO } from '../io.js';
import { checkReportFiles } from '../reporting.js';
import { keepModel } from '../kept-model.js';
import { loadWorkflowForRun } from '../load-workflow.js';
import { type DriverFlags, parseConcurrency, parseDurability, parseInputFlags, readInputsFile } from '../run-flags.js';
import { statePath } from '../state-path.js';

export interface RunCommandOptions extends DriverFlags {
  dryRun?: boolean;
  /**
   * Not a flag: an earlier run whose results the new run takes over where nothing changed (flow serve's rerun): when
   * the workflow text and the inputs are those it ran with, its succeeded steps are not run again.
   */
  reuse?: { definitionHash: string; inputs: Record<string, unknown>; results: readonly StoredStepResult[] };
}

// `flow run FILE`: validate, check inputs, then run with every state change committed to the state file.
export async function runCommand(file: string, options: RunCommandOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const maxConcurrency = parseConcurrency(options.maxConcurrency);
  const durability = parseDurability(options.durability);
  checkReportFiles(options, io.cwd);
  const { workflow, text } = await loadWorkflowForRun(file, io);
  const given = {
    ...(options.inputs ? await readInputsFile(resolve(io.cwd, options.inputs)) : {}),
    ...options.inputValues,
    ...parseInputFlags(options.input),
  };
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
    keepModel(store, text, workflow, secretValues(workflow, inputs, process.env));
    const run = {
      ...(options.reuse ? { recorded: reusable(options.reuse, workflow, text, inputs) } : {}),
      store,
      statePath: path,
      workflow,
      text,
      inputs,
      executors,
      runId: newRunId(),
      maxConcurrency,
      noCache: options.cache === false,
      output: options,
      onStart: options.onStart,
    };
    return await driveRun(run, io, signal);
  } finally {
    store.close();
  }
}

/**
 * The earlier run's results this one starts from: its main steps' (handlers run again, as in any run), and only when
 * the text and every input are the same; a changed input could change any step, so then nothing is taken over.
 */
function reusable(
  reuse: NonNullable<RunCommandOptions['reuse']>,
  workflow: Workflow,
  text: string,
  inputs: Record<string, unknown>,
): StoredStepResult[] {
  if (definitionHash(text) !== reuse.definitionHash) return [];
  if (JSON.stringify(sorted(inputs)) !== JSON.stringify(sorted(reuse.inputs))) return [];
  return keptResults(workflow, reuse.results);
}

function sorted(values: Record<string, unknown>): [string, unknown][] {
  return Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
