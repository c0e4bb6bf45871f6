import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childRunner } from '../../src/engine/child-runs.js';
import { resolveInputs } from '../../src/engine/inputs.js';
import { newRunId } from '../../src/engine/run-id.js';
import { type ResumeOf, runWorkflow, type RunOutcome } from '../../src/engine/run-workflow.js';
import { executorTable } from '../../src/executors/custom.js';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { FlowEvent } from '../../src/model/events.js';
import type { StoredStepResult } from '../../src/state/run-store.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { recordEvents } from '../../src/state/record-events.js';

export interface EngineRun {
  outcome: RunOutcome;
  events: FlowEvent[];
  dir: string;
  statePath: string;
}

export const tempDir = (prefix = 'flow-engine-') => mkdtempSync(join(tmpdir(), prefix));

/** Validates YAML text written into `dir` and runs it with the real executors and a real SQLite state file. */
export async function runYaml(
  yaml: string,
  options: {
    dir?: string;
    inputs?: Record<string, unknown>;
    signal?: AbortSignal;
    env?: Record<string, string>;
    recorded?: StoredStepResult[];
    resume?: ResumeOf;
    runId?: string;
    maxConcurrency?: number;
  } = {},
): Promise<EngineRun> {
  const dir = options.dir ?? tempDir();
  const file = join(dir, 'workflow.yaml');
  writeFileSync(file, yaml);
  const checked = await validateSource(file, yaml, nodeHost);
  const errors = checked.diagnostics.filter((d) => d.severity === 'error');
  if (!checked.workflow)
    throw new Error(`test workflow is invalid:\n${errors.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n')}`);
  const statePath = join(dir, '.flow', 'state.db');
  const store = openSqliteStore(statePath);
  const events: FlowEvent[] = [];
  try {
    const runId = options.runId ?? newRunId();
    const listeners = [recordEvents(store), (e: FlowEvent) => events.push(e)];
    const base = {
      store,
      listeners,
      cwd: dir,
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
    };
    const outcome = await runWorkflow({
      ...base,
      workflow: checked.workflow,
      definition: yaml,
      inputs: resolveInputs(checked.workflow.inputs, options.inputs ?? {}),
      executors: await executorTable(checked.workflow),
      runId,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.recorded ? { recorded: options.recorded } : {}),
      ...(options.resume ? { resume: options.resume } : {}),
      runChild: childRunner(base, () => runId, { check: (path, text) => validateSource(path, text, nodeHost) }),
    });
    return { outcome, events, dir, statePath };
  } finally {
    store.close();
  }
}

export const statusOf = (run: EngineRun, id: string) => run.outcome.results.get(id)?.status;
export const outputOf = (run: EngineRun, id: string) => run.outcome.results.get(id)?.output;

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
