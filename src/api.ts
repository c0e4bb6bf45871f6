import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { childRunner } from './engine/child-runs.js';
import { resolveInputs } from './engine/inputs.js';
import { newRunId } from './engine/run-id.js';
import { runWorkflow as runEngine, type RunOutcome } from './engine/run-workflow.js';
import { executorTable } from './executors/custom.js';
import type { Executor, StepContext } from './executors/executor.js';
import type { ValidationHost } from './language/host.js';
import { nodeHost } from './language/node-host.js';
import { validateSource, type ValidationResult } from './language/validate.js';
import { InvalidWorkflowError } from './model/errors.js';
import type { EventListener } from './model/events.js';
import type { Workflow } from './model/workflow.js';
import type { RunStore } from './state/run-store.js';
import { recordEvents } from './state/record-events.js';
import { killGraceMs } from './executors/process-groups.js';

// flow as a library: what the CLI does, callable from a program or a vitest test.

export interface LoadedWorkflow {
  workflow: Workflow;
  /** The file's text, kept with each run. */
  text: string;
  /** Warnings (a loaded workflow has no errors). */
  diagnostics: ValidationResult['diagnostics'];
}

/** Validates a workflow file (or text) and returns every diagnostic; never throws for a bad workflow. */
export async function validateWorkflow(file: string, options: { text?: string; host?: ValidationHost } = {}): Promise<ValidationResult> {
  const path = resolve(file);
  const host = options.host ?? nodeHost;
  return validateSource(file, options.text ?? (await host.readFile(path)), host, { path });
}

/** Loads a workflow for running; throws InvalidWorkflowError (with the diagnostics in its message) when it is not valid. */
export async function loadWorkflow(file: string, options: { text?: string; host?: ValidationHost } = {}): Promise<LoadedWorkflow> {
  const text = options.text ?? (await readFile(resolve(file), 'utf8'));
  const result = await validateWorkflow(file, { ...options, text });
  if (!result.workflow) {
    const lines = result.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => `${d.file}:${d.line}:${d.column}: ${d.code}: ${d.message}`);
    throw new InvalidWorkflowError(`${file} is not valid:\n${lines.join('\n')}`);
  }
  return { workflow: { ...result.workflow, file: resolve(file) }, text, diagnostics: result.diagnostics };
}

/** A step type for `runWorkflow({ executors })`: a full Executor, or just an execute function. */
export type ExecutorOverride = Executor | ((config: Record<string, unknown>, context: StepContext) => Promise<unknown>);

export interface RunWorkflowOptions {
  /** Input values, converted and checked like `--input` (text) or `--inputs` (typed) values. */
  inputs?: Record<string, unknown>;
  /** Replace or add step types by name, e.g. `{ http: async (config) => ({ status: 200, json: {...} }) }`. */
  executors?: Record<string, ExecutorOverride>;
  /** Where the run is recorded (and the step cache kept); none by default. The CLI uses `openSqliteStore`. */
  store?: RunStore;
  listeners?: EventListener[];
  signal?: AbortSignal;
  cwd?: string;
  env?: Record<string, string | undefined>;
  maxConcurrency?: number;
}

/** Runs a workflow file (or a loaded workflow) in-process and returns its outcome. */
export async function runWorkflow(workflow: string | LoadedWorkflow, options: RunWorkflowOptions = {}): Promise<RunOutcome> {
  // A bad FLOW_KILL_GRACE is refused here: met by a shell step, it would stop the whole run as a fault of flow's.
  killGraceMs();
  const loaded = typeof workflow === 'string' ? await loadWorkflow(workflow) : workflow;
  // The overrides apply in child workflows too, so a test's fakes reach every level.
  const executorsFor = async (w: Workflow) => withOverrides(await executorTable(w), options.executors ?? {});
  const runId = newRunId();
  // A commit made after its event that fails stops the run as one the engine waited for would.
  const lateFailure = new AbortController();
  const recorder = options.store ? [recordEvents(options.store, { onLateFailure: (err) => lateFailure.abort(err) })] : [];
  const base = {
    listeners: [...recorder, ...(options.listeners ?? [])],
    ...(options.store ? { store: options.store } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
  };
  return runEngine({
    ...base,
    workflow: loaded.workflow,
    definition: loaded.text,
    inputs: resolveInputs(loaded.workflow.inputs, options.inputs ?? {}),
    executors: await executorsFor(loaded.workflow),
    runId,
    signal: options.signal ? AbortSignal.any([options.signal, lateFailure.signal]) : lateFailure.signal,
    runChild: childRunner(base, () => runId, { check: (path, text) => validateSource(path, text, nodeHost), executorsFor }),
  });
}

function withOverrides(table: Map<string, Executor>, overrides: Record<string, ExecutorOverride>): Map<string, Executor> {
  for (const [name, override] of Object.entries(overrides)) {
    const base = table.get(name);
    const executor: Executor =
      typeof override === 'function'
        ? {
            ...(base ?? { type: name, aliases: [], summary: name, configSchema: {}, configRequired: false }),
            ...(base?.resolveConfig ? { resolveConfig: base.resolveConfig } : {}),
            execute: override,
          }
        : override;
    table.set(name, executor);
    for (const alias of base?.aliases ?? []) table.set(alias, executor);
  }
  return table;
}
