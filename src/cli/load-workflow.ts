import type { CheckWorkflow } from '../engine/child-runs.js';
import { nodeHost } from '../language/node-host.js';
import { validateSource } from '../language/validate.js';
import { InvalidWorkflowError } from '../model/errors.js';
import type { Workflow } from '../model/workflow.js';
import { formatDiagnosticText, plainStyle, summarize } from '../report/diagnostics.js';
import type { CommandIO } from './io.js';
import { readWorkflowText } from './workflow-text.js';

export interface LoadedWorkflow {
  workflow: Workflow;
  text: string;
  path: string;
}

// Reads and validates a workflow for running: an invalid one never starts; its diagnostics go to stderr.
export async function loadWorkflowForRun(file: string, io: CommandIO): Promise<LoadedWorkflow> {
  const { text, path } = await readWorkflowText(file, io);
  return { workflow: await checkWorkflowText(file, path, text, io), text, path };
}

/** Validates a workflow's text for running; an invalid one prints its diagnostics and throws InvalidWorkflowError. */
export async function checkWorkflowText(file: string, path: string, text: string, io: CommandIO): Promise<Workflow> {
  const result = await validateSource(file, text, nodeHost, { path });
  if (!result.workflow) {
    io.stderr(result.diagnostics.map((d) => formatDiagnosticText(d, plainStyle, (_f, n) => result.source.line(n))).join('\n\n'));
    throw new InvalidWorkflowError(`${file} is not valid (${summarize(result.diagnostics, 1)}); nothing was run`);
  }
  return { ...result.workflow, file: path };
}

/** How a `workflow` step's file is checked before its child run starts. */
export const checkChildWorkflow: CheckWorkflow = (path, text) => validateSource(path, text, nodeHost);
