import { resolve } from 'node:path';
import { resolveInputs } from '../../engine/inputs.js';
import { secretValues } from '../../engine/masking.js';
import { newRunId } from '../../engine/run-id.js';
import { type EarlierRun, rerunResults } from '../../engine/rerun-plan.js';
import { executorTable } from '../../executors/custom.js';
import { driveRun, signalExit } from '../drive-run.js';
import { dryRun } from './dry-run.js';
import { readInputsFile } from '../inputs-file.js';
import type { CommandIO } from '../io.js';
import { checkReportFiles } from '../reporting.js';
import { keepModel, keptRunModel } from '../kept-model.js';
import { checkRemoteFlags, type DriverFlags, openRemoteFlags, parseConcurrency, parseDurability, parseInputFlags } from '../run-flags.js';
import { statePath } from '../state-path.js';
import { readWorkflowText } from '../workflow-text.js';
import { openExistingStateFile, openRunStore } from '../../state/open-store.js';
import { favourMemoryFor } from '../memory-mode.js';
import { killGraceMs } from '../../executors/process-groups.js';

export interface RunCommandOptions extends DriverFlags {
  dryRun?: boolean;
  /**
   * Not a flag: an earlier run whose results the new run takes over where nothing changed (flow serve's rerun): its
   * succeeded steps before the first that the changed file or inputs could change are not run again.
   */
  reuse?: EarlierRun;
}

// `flow run FILE`: validate, check inputs, then run with every state change committed to the state file.
export async function runCommand(file: string, options: RunCommandOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const maxConcurrency = parseConcurrency(options.maxConcurrency);
  const durability = parseDurability(options.durability);
  killGraceMs();
  checkRemoteFlags(options);
  checkReportFiles(options, io.cwd);
  const { text, path: workflowPath } = await readWorkflowText(file, io);
  if (options.memorySaving) favourMemoryFor(text);
  // A state file that already exists may hold the model an earlier run of this text kept: reused, it spares the run
  // the YAML parse and the checks (bench/RESULTS.md). A dry run leaves the state file alone, and a bad --state is
  // reported where it always was, once the workflow is known to be valid.
  const early = options.dryRun ? undefined : quietly(() => statePath(options.state, io));
  let store = early === undefined ? undefined : await openExistingStateFile(early, { durability });
  let remote: Awaited<ReturnType<typeof openRemoteFlags>>;
  try {
    const kept = store && quietly(() => keptRunModel(store!, text, file, workflowPath));
    // The YAML parser and the checks load only when they are needed.
    const workflow = kept ?? (await (await import('../load-workflow.js')).checkWorkflowText(file, workflowPath, text, io));
    const given = {
      ...(options.inputs ? await readInputsFile(resolve(io.cwd, options.inputs)) : {}),
      ...options.inputValues,
      ...parseInputFlags(options.input),
    };
    const inputs = resolveInputs(workflow.inputs, given);
    if (options.dryRun) {
      return dryRun(workflow, inputs, io);
    }
    const executors = await executorTable(workflow);
    // Stopped while validating: nothing has started, so nothing is recorded.
    if (signal.aborted) {
      io.stderr('flow: interrupted before the run started; nothing was run');
      return signalExit(signal);
    }
    const path = statePath(options.state, io);
    remote = await openRemoteFlags(options, path, workflow, executors);
    store ??= await openRunStore(path, { durability });
    if (!kept) keepModel(store, text, workflow, secretValues(workflow, inputs, process.env));
    const run = {
      ...(options.reuse ? { recorded: rerunResults(workflow, options.reuse, inputs) } : {}),
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
      remote,
      memorySaving: options.memorySaving,
      checkChild: async (childPath: string, childText: string) =>
        (await import('../load-workflow.js')).checkChildWorkflow(childPath, childText),
    };
    return await driveRun(run, io, signal);
  } finally {
    store?.close();
    await remote?.close();
  }
}

/** fn's value, or undefined where it throws: for what only saves work, whose fault the regular path reports. */
function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
