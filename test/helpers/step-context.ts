import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StepContext } from '../../src/executors/executor.js';
import type { ModelCall } from '../../src/model/spend.js';

export interface EmittedOutput {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** A complete StepContext, plus what a test needs to drive and observe it. */
export interface TestStepContext extends StepContext {
  /** Aborts `signal`. */
  controller: AbortController;
  /** Everything the step passed to emitOutput, in order. */
  emitted: EmittedOutput[];
  /** Every model call the step reported, in order. */
  modelCalls: ModelCall[];
}

const tempDirs: string[] = [];

/**
 * A real StepContext as the engine would hand an executor: a fresh AbortController, a new
 * temporary directory as cwd, the process environment. `runChildWorkflow` throws: a test that
 * needs child runs passes its own.
 */
export function stepContext(overrides: Partial<StepContext> = {}): TestStepContext {
  const controller = new AbortController();
  const emitted: EmittedOutput[] = [];
  const modelCalls: ModelCall[] = [];
  const runId = overrides.runId ?? 'run_test_0001';
  const stepId = overrides.stepId ?? 'step_one';
  const item = overrides.item ?? -1;
  let cwd = overrides.cwd;
  if (cwd === undefined) {
    cwd = mkdtempSync(join(tmpdir(), 'flow-step-'));
    tempDirs.push(cwd);
  }
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return {
    runId,
    stepId,
    attempt: 1,
    item,
    idempotencyKey: `${runId}:${stepId}:${item}`,
    signal: controller.signal,
    env,
    previous: null,
    inputs: {},
    workflowFile: join(cwd, 'workflow.yaml'),
    models: [],
    emitOutput(stream, text) {
      emitted.push({ stream, text });
    },
    emitTokens(text) {
      emitted.push({ stream: 'stdout', text });
    },
    reportModelCall(call) {
      modelCalls.push(call);
    },
    async runChildWorkflow(path) {
      throw new Error(`stepContext: runChildWorkflow(${path}) is not available in this test`);
    },
    ...overrides,
    cwd,
    controller,
    emitted,
    modelCalls,
  };
}

/** Removes the temporary directories made by stepContext (call from afterAll/afterEach). */
export function removeStepContextDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
