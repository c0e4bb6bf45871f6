import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { workflowShape } from '../../engine/drift.js';
import { SecretMasker, secretValues } from '../../engine/masking.js';
import { definitionHash } from '../../engine/run-workflow.js';
import { planRun } from '../../engine/plan.js';
import { keptResults, stepOrder } from '../../engine/resume-plan.js';
import { resolveInputs } from '../../engine/inputs.js';
import { executorTable } from '../../executors/custom.js';
import { EXIT, ResumeError, RunOwnedError, UnknownRunError, UsageError } from '../../model/errors.js';
import type { RunRecord } from '../../model/run.js';
import type { Workflow } from '../../model/workflow.js';
import { aliveNow, currentOwner, describeOwner } from '../../state/lease.js';
import type { RunStore } from '../../state/run-store.js';
import { driveRun, signalExit } from '../drive-run.js';
import type { CommandIO } from '../io.js';
import { finishedRun } from '../finished-run.js';
import { checkReportFiles } from '../reporting.js';
import { keepModel, keptModel } from '../kept-model.js';
import type { RunnableDefinition } from '../resume-definition.js';
import { describePlan } from '../resume-report.js';
import type { RemoteDriver } from '../../remote/open-remote.js';
import { checkRemoteFlags, type DriverFlags, openRemoteFlags, parseConcurrency, parseDurability, parseInputFlags } from '../run-flags.js';
import { statePath } from '../state-path.js';
import { openRunStore } from '../../state/open-store.js';
import { shownLocation, stateExists } from '../../state/state-location.js';
import { killGraceMs } from '../../executors/process-groups.js';
import { favourMemoryFor } from '../memory-mode.js';

export interface ResumeCommandOptions extends DriverFlags {
  from?: string;
  allowChanged?: boolean;
  plan?: boolean;
}

// `flow resume RUN_ID`: continue a failed or interrupted run under its id, as its next attempt.
export async function resumeCommand(runId: string, options: ResumeCommandOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const maxConcurrency = parseConcurrency(options.maxConcurrency);
  const durability = parseDurability(options.durability);
  killGraceMs();
  checkRemoteFlags(options);
  checkReportFiles(options, io.cwd);
  const path = statePath(options.state, io);
  if (!stateExists(path)) throw new UnknownRunError(runId, shownLocation(path));
  const store = await openRunStore(path, { durability });
  let remote: RemoteDriver | undefined;
  try {
    const run = store.getRun(runId);
    if (!run) throw new UnknownRunError(runId, shownLocation(path));
    if (options.memorySaving) favourMemoryFor(run.definition);
    if (run.parentRunId)
      throw new ResumeError(`run ${runId} is a child run of run ${run.parentRunId}`, `resume that run: flow resume ${run.parentRunId}`);
    if (run.status === 'succeeded' && options.from === undefined) return await finishedRun(run, store, path, options, io);
    const given = parseInputFlags(options.input);
    const { workflow, text, changed, changedFrom, checked } = await definitionToRun(run, options.allowChanged === true, store, io);
    const { order } = stepOrder(workflow.steps);
    if (options.from !== undefined && !order.includes(options.from)) {
      throw new UsageError(`--from '${options.from}': the workflow has no such step`, `its steps: ${order.join(', ')}`);
    }
    // With --from and a changed file, whichever of the two comes first in the file.
    const from = [options.from, changedFrom].filter((id) => id !== undefined).sort((a, b) => order.indexOf(a) - order.indexOf(b))[0];
    const inputs = await resumeInputs(workflow, run, given, options, io);
    const kept = () => keptResults(workflow, store.stepResults(runId), from === undefined ? {} : { from });
    if (options.plan) {
      const recorded = kept();
      io.stdout(describePlan(planRun(workflow, new Map(recorded.map((r) => [`${r.stepId}#${r.item}`, r.result]))), workflow));
      return EXIT.ok;
    }
    const executors = await executorTable(workflow);
    remote = await openRemoteFlags(options, path, workflow, executors);
    if (signal.aborted) return signalExit(signal);
    const claim = store.claimRun(runId, currentOwner(), Date.now(), aliveNow, options.from !== undefined);
    if (claim.kind === 'unknown') throw new UnknownRunError(runId, shownLocation(path));
    if (claim.kind === 'succeeded') return await finishedRun(claim.run, store, path, options, io);
    if (claim.kind === 'owned') {
      throw new RunOwnedError(
        `run ${runId} is being driven by ${describeOwner(claim.owner)}`,
        'wait for it to finish, or stop that process; a process that died is taken over at once',
      );
    }
    // Read only now that the run is ours: a driver that finished meanwhile recorded more.
    const recorded = kept();
    // Run as it is now (--allow-changed, or only comments changed): the record says so, and the next resume
    // compares against this text. Stored masked, as at the start of a run; its hash is of the text itself.
    if (changed) {
      const secrets = secretValues(workflow, inputs, process.env);
      store.replaceDefinition(runId, new SecretMasker(secrets).text(text), definitionHash(text), workflowShape(workflow));
      if (checked) keepModel(store, text, checked, secrets);
    }
    if (claim.interrupted > 0)
      io.stderr(
        `flow: ${claim.interrupted} step attempt(s) were running when the last driver stopped; ${remote ? 'those still with workers are waited for, the others run again' : 'they run again'}`,
      );
    io.stderr(`flow: resuming run ${runId} (attempt ${claim.run.attempt})${from ? ` from step '${from}'` : ''}`);
    const lastAttempt = (stepId: string, item: number) => store.lastAttempt(runId, stepId, item);
    const resume = { attempt: claim.run.attempt, startedAt: run.startedAt, lastAttempt };
    return await driveRun(
      {
        store,
        statePath: path,
        workflow,
        text,
        inputs,
        executors,
        runId,
        recorded,
        resume,
        maxConcurrency,
        noCache: options.cache === false,
        output: options,
        onStart: options.onStart,
        remote,
        memorySaving: options.memorySaving,
        // The language layer loads only when a workflow step runs: a resume from the kept model never parses YAML.
        checkChild: async (file, text) => (await import('../load-workflow.js')).checkChildWorkflow(file, text),
      },
      io,
      signal,
    );
  } finally {
    store.close();
    await remote?.close();
  }
}

/**
 * What the run runs: the workflow as it started. While the file on disk is that text (the same hash: the recorded
 * copy has its secret values masked), the model kept at run time serves; otherwise the texts are compared and checked.
 */
async function definitionToRun(run: RunRecord, allowChanged: boolean, store: RunStore, io: CommandIO): Promise<RunnableDefinition> {
  const current = await readFile(run.workflowPath, 'utf8').catch(() => undefined);
  const same = current !== undefined && definitionHash(current) === run.definitionHash;
  if (current === undefined || same) {
    const model = keptModel(store, run);
    if (model) return { workflow: model, text: current ?? run.definition, changed: false, changedFrom: undefined };
  }
  // Parsing, checking and comparing texts load the language layer: only when the kept model cannot serve.
  const { checkedDefinition } = await import('../resume-definition.js');
  return checkedDefinition(run, current, allowChanged, store, io);
}

/**
 * The run's recorded inputs. Secret inputs were stored masked, so they come again from --input or --inputs; the
 * others are the run's own and cannot change.
 */
async function resumeInputs(
  workflow: Workflow,
  run: RunRecord,
  flags: Record<string, string>,
  options: ResumeCommandOptions,
  io: CommandIO,
): Promise<Record<string, unknown>> {
  const fromFile = options.inputs ? await (await import('../inputs-file.js')).readInputsFile(resolve(io.cwd, options.inputs)) : {};
  const given = { ...fromFile, ...options.inputValues, ...flags };
  const secret = new Set(workflow.inputs.filter((i) => i.secret).map((i) => i.name));
  const fixed = Object.keys(given).filter((k) => !secret.has(k));
  if (fixed.length > 0) {
    throw new UsageError(
      `--input ${fixed[0]}: a run's inputs are fixed when it starts; only secret inputs are given again`,
      'start a new run with flow run to use other inputs',
    );
  }
  const missing = [...secret].filter((name) => run.inputs[name] === '***' && given[name] === undefined);
  if (missing.length > 0) {
    throw new ResumeError(
      `secret input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} must be given again: secrets are stored masked`,
      missing.map((m) => `--input ${m}=...`).join(' '),
    );
  }
  const inputs = resolveInputs(workflow.inputs, { ...pick(run.inputs, (k) => workflow.inputs.some((i) => i.name === k)), ...given });
  const unset = workflow.secrets.filter((name) => process.env[name] === undefined);
  if (unset.length > 0) io.stderr(`flow: warning: secret${unset.length > 1 ? 's' : ''} ${unset.join(', ')} not set in the environment`);
  return inputs;
}

function pick(values: Record<string, unknown>, keep: (key: string) => boolean): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => keep(k)));
}
