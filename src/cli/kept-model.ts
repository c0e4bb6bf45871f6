import { FLOW_BUILD } from '../engine/build-id.js';
import { SecretMasker } from '../engine/masking.js';
import { definitionHash } from '../engine/run-workflow.js';
import type { RunRecord } from '../model/run.js';
import { actionSteps, runSections } from '../model/step-lists.js';
import type { Workflow } from '../model/workflow.js';
import type { RunStore } from '../state/run-store.js';

// The validated model of a run's workflow text, kept in the state file so a resume, and a new run of the same text,
// need not parse it again.

/**
 * Keeps the model of `text`, unless it holds a secret value (a secret input's default, say): the file holds none. Nor
 * one that JSON, in which it is kept, would not give back as it is (YAML's .inf and .nan would come back null).
 */
export function keepModel(store: RunStore, text: string, workflow: Workflow, secrets: readonly string[]): void {
  if (new SecretMasker(secrets).holds(workflow) || !survivesJson(workflow)) return;
  store.saveModel(definitionHash(text), FLOW_BUILD, workflow);
}

/** The kept model of the run's text, as that run saw it (its file, its name), when this build kept one. */
export function keptModel(store: RunStore, run: RunRecord): Workflow | undefined {
  const model = store.loadModel(run.definitionHash, FLOW_BUILD);
  return model && { ...model, file: run.workflowPath, name: run.workflowName };
}

/**
 * The model an earlier run of this same text, at this same path, kept: what validating it again would give, since a
 * workflow's verdict and model depend only on its text, its name and path, and the build (the key of a kept model).
 * Not when the workflow names other files (custom executors, `workflow` steps): its validation reads them as they are
 * now, and they may have changed since.
 */
export function keptRunModel(store: RunStore, text: string, file: string, path: string): Workflow | undefined {
  const model = store.loadModel(definitionHash(text), FLOW_BUILD);
  if (!model || model.file !== path || model.steps[0]?.at.file !== file) return undefined;
  const namesOtherFiles =
    Object.keys(model.executors).length > 0 ||
    actionSteps([...runSections(model), ...model.fallbacks]).some((step) => step.type === 'workflow');
  return namesOtherFiles ? undefined : model;
}

function survivesJson(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every((v) => v !== undefined && survivesJson(v));
  if (typeof value === 'object' && value !== null) return Object.values(value).every(survivesJson);
  return true;
}
