import { readFile } from 'node:fs/promises';
import { executorTable } from '../executors/custom.js';
import type { Diagnostic } from '../model/diagnostic.js';
import type { FlowEvent } from '../model/events.js';
import type { Executor } from '../executors/executor.js';
import type { Workflow } from '../model/workflow.js';
import { resolveInputs } from './inputs.js';
import { newRunId } from './run-id.js';
import type { ChildRunner } from './run-context.js';
import { runWorkflow, type RunOptions } from './run-workflow.js';
import { StepFailure } from './step-failure.js';

const MAX_DEPTH = 16;

// A `workflow` step: the child file is validated, then run as a run of its own with this run as its parent.
export type ExecutorsFor = (workflow: Workflow) => Promise<Map<string, Executor>>;

/**
 * Checks a child workflow's text. The language layer comes from the caller: `flow run` has it loaded already, and
 * `flow resume` loads it only when a workflow step runs (a resume from the kept model never parses YAML).
 */
export type CheckWorkflow = (path: string, text: string) => Promise<{ workflow: Workflow | undefined; diagnostics: Diagnostic[] }>;

export interface ChildRunDeps {
  check: CheckWorkflow;
  /** The executors of a child workflow (default: the built-in table and the workflow's custom executors). */
  executorsFor?: ExecutorsFor;
}

export function childRunner(
  parent: Omit<RunOptions, 'workflow' | 'definition' | 'inputs' | 'executors'>,
  runId: () => string,
  deps: ChildRunDeps,
  depth = 1,
): ChildRunner {
  const executorsFor = deps.executorsFor ?? executorTable;
  return async (path, inputs, { stepId, item, signal, maskValues }) => {
    if (depth > MAX_DEPTH) throw new StepFailure('validation', `workflows nest deeper than ${MAX_DEPTH} levels`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new StepFailure('validation', `workflow file ${path} cannot be read`);
    }
    const checked = await deps.check(path, text);
    if (!checked.workflow) {
      const first = checked.diagnostics.find((d) => d.severity === 'error');
      throw new StepFailure(
        'validation',
        `workflow ${path} is invalid: ${first ? `${first.line}:${first.column} ${first.message}` : 'see flow validate'}`,
      );
    }
    let values: Record<string, unknown>;
    try {
      values = resolveInputs(checked.workflow.inputs, inputs);
    } catch (err) {
      throw new StepFailure('validation', `workflow ${path}: ${(err as Error).message}`);
    }
    // The child's events reach the same listeners, its step ids prefixed with the parent step's (and item).
    const prefix = item >= 0 ? `${stepId}[${item}]` : stepId;
    const listeners = (parent.listeners ?? []).map((listener) => (event: FlowEvent) => listener(prefixed(event, prefix)));
    const childId = newRunId();
    const child = await runWorkflow({
      ...parent,
      workflow: checked.workflow,
      definition: text,
      inputs: values,
      executors: await executorsFor(checked.workflow),
      maskValues,
      listeners,
      signal,
      parentRunId: runId(),
      runId: childId,
      recorded: undefined,
      resume: undefined,
      runChild: childRunner(parent, () => childId, deps, depth + 1),
    });
    if (child.status !== 'succeeded')
      throw new StepFailure(child.error?.class ?? 'error', `child workflow ${path} ${child.status}: ${child.error?.message ?? ''}`.trim());
    return child.outputs ?? {};
  };
}

function prefixed(event: FlowEvent, stepId: string): FlowEvent {
  if ('stepId' in event) return { ...event, stepId: `${stepId}/${event.stepId}` } as FlowEvent;
  return event;
}
