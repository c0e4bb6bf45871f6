import { parse as parseYaml } from 'yaml';
import { FLOW_BUILD } from '../engine/build-id.js';
import { hasDrift, workflowDrift } from '../engine/drift.js';
import { stepOrder } from '../engine/resume-plan.js';
import { nodeHost } from '../language/node-host.js';
import { validateSource } from '../language/validate.js';
import { InvalidWorkflowError, ResumeError } from '../model/errors.js';
import type { RunRecord } from '../model/run.js';
import type { Workflow } from '../model/workflow.js';
import { formatDiagnosticText, plainStyle, summarize } from '../report/diagnostics.js';
import type { RunStore } from '../state/run-store.js';
import type { CommandIO } from './io.js';

/**
 * The run's own snapshot, unless the file on disk (`current`) changed since: then refuse, naming the steps that
 * differ, or with --allow-changed run the file as it is now from its first changed step (from its first step when a
 * setting every step reads changed). The checked model of the recorded text is kept for the next resume.
 */
export async function checkedDefinition(
  run: RunRecord,
  current: string | undefined,
  allowChanged: boolean,
  store: RunStore,
  io: CommandIO,
): Promise<{ workflow: Workflow; text: string; changedFrom: string | undefined }> {
  const drift =
    current === undefined || current === run.definition ? undefined : workflowDrift(parseQuietly(run.definition), parseQuietly(current));
  if (drift && hasDrift(drift)) {
    const parts = [
      ...(drift.changed.length ? [`changed or new steps: ${drift.changed.join(', ')}`] : []),
      ...(drift.removed.length ? [`removed steps: ${drift.removed.join(', ')}`] : []),
      ...(drift.settings.length ? [`changed settings: ${drift.settings.join(', ')}`] : []),
    ].join('; ');
    if (!allowChanged) {
      throw new ResumeError(
        `${run.workflowPath} changed since run ${run.id} started (${parts})`,
        'resume runs what was started; --allow-changed runs the file as it is now, re-running every changed step and all after it',
      );
    }
    io.stderr(`flow: running ${run.workflowPath} as it is now (${parts})`);
  }
  // Only comments or layout changed: the file as it is now runs the same steps.
  const text = current !== undefined && (drift === undefined || allowChanged || !hasDrift(drift)) ? current : run.definition;
  const checked = await validateSource(run.workflowPath, text, nodeHost, { path: run.workflowPath });
  if (!checked.workflow) {
    io.stderr(checked.diagnostics.map((d) => formatDiagnosticText(d, plainStyle, (_f, n) => checked.source.line(n))).join('\n\n'));
    throw new InvalidWorkflowError(`${run.workflowPath} is not valid (${summarize(checked.diagnostics, 1)}); nothing was run`);
  }
  const workflow = { ...checked.workflow, file: run.workflowPath };
  if (text === run.definition) store.saveModel(run.definitionHash, FLOW_BUILD, workflow);
  const order = stepOrder(workflow.steps).order;
  const changedFrom = !drift ? undefined : drift.settings.length > 0 ? order[0] : order.find((id) => drift.changed.includes(id));
  return { workflow, text, changedFrom };
}

function parseQuietly(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
}
