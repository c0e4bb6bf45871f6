import { type Drift, hasDrift, workflowDrift, workflowShape } from '../engine/drift.js';
import { secretValues } from '../engine/masking.js';
import { stepOrder } from '../engine/resume-plan.js';
import { definitionHash } from '../engine/run-workflow.js';
import { nodeHost } from '../language/node-host.js';
import { validateSource } from '../language/validate.js';
import { ResumeError } from '../model/errors.js';
import type { RunRecord } from '../model/run.js';
import type { Workflow, WorkflowShape } from '../model/workflow.js';
import type { RunStore } from '../state/run-store.js';
import type { CommandIO } from './io.js';
import { keepModel } from './kept-model.js';
import { checkWorkflowText } from './load-workflow.js';

/**
 * The run's workflow when its kept model cannot serve: the file on disk (`current`), or the recorded copy when the
 * file is gone. A file that changed since the run started (compared step by step with the shape the run recorded)
 * refuses the resume, naming the steps that differ; with --allow-changed it runs as it is now, from its first changed
 * step (from its first step when a setting every step reads changed).
 */
export async function checkedDefinition(
  run: RunRecord,
  current: string | undefined,
  allowChanged: boolean,
  store: RunStore,
  io: CommandIO,
): Promise<RunnableDefinition> {
  if (current === undefined && definitionHash(run.definition) !== run.definitionHash) {
    // The recorded copy has its secret values masked (its hash is of the text that ran): it cannot run.
    throw new ResumeError(
      `${run.workflowPath} is gone, and the copy recorded with run ${run.id} cannot run: its secret values were stored masked`,
      'put the workflow file back where it was',
    );
  }
  const text = current ?? run.definition;
  // Kept as validation gave it, its own name too: a new run of this text may take it (kept-model.ts). The resume runs
  // it under the run's name.
  const checked = await checkWorkflowText(run.workflowPath, run.workflowPath, text, io);
  const workflow = { ...checked, name: run.workflowName };
  let changedFrom: string | undefined;
  const changed = definitionHash(text) !== run.definitionHash;
  if (changed) {
    const recorded = run.shape ?? (await recordedShape(run));
    const drift = recorded ? workflowDrift(recorded, workflowShape(workflow)) : undefined;
    const parts = drift ? describe(drift) : 'a run recorded by an older flow, whose steps cannot be compared';
    if (!drift || hasDrift(drift)) {
      if (!allowChanged) {
        throw new ResumeError(
          `${run.workflowPath} changed since run ${run.id} started (${parts})`,
          'resume runs what was started; --allow-changed runs the file as it is now, re-running every changed step and all after it',
        );
      }
      io.stderr(`flow: running ${run.workflowPath} as it is now (${parts})`);
      const order = stepOrder(workflow.steps).order;
      changedFrom = !drift || drift.settings.length > 0 ? order[0] : order.find((id) => drift.changed.includes(id));
    }
  } else {
    keepModel(store, text, checked, secretValues(workflow, {}, process.env));
  }
  return { workflow, text, changed, changedFrom, checked };
}

/** What a resume runs: the workflow, its text, whether that is not the text the run recorded, and where to re-run from. */
export interface RunnableDefinition {
  workflow: Workflow;
  text: string;
  changed: boolean;
  changedFrom: string | undefined;
  /** The model as validation gave it (under its own name), to keep; none when it came from the state file. */
  checked?: Workflow;
}

/** A run recorded before shapes were: its text, if it still validates (a masked secret may keep it from it). */
async function recordedShape(run: RunRecord): Promise<WorkflowShape | undefined> {
  const checked = await validateSource(run.workflowPath, run.definition, nodeHost, { path: run.workflowPath });
  return checked.workflow ? workflowShape(checked.workflow) : undefined;
}

function describe(drift: Drift): string {
  return [
    ...(drift.changed.length ? [`changed or new steps: ${drift.changed.join(', ')}`] : []),
    ...(drift.removed.length ? [`removed steps: ${drift.removed.join(', ')}`] : []),
    ...(drift.settings.length ? [`changed settings: ${drift.settings.join(', ')}`] : []),
  ].join('; ');
}
