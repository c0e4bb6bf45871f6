import { FLOW_BUILD } from '../engine/build-id.js';
import { SecretMasker } from '../engine/masking.js';
import { definitionHash } from '../engine/run-workflow.js';
import type { RunRecord } from '../model/run.js';
import type { Workflow } from '../model/workflow.js';
import type { RunStore } from '../state/run-store.js';

// The validated model of a run's workflow text, kept in the state file so a resume need not parse it again.

/** Keeps the model of `text`, unless it holds a secret value (a secret input's default, say): the file holds none. */
export function keepModel(store: RunStore, text: string, workflow: Workflow, secrets: readonly string[]): void {
  if (new SecretMasker(secrets).holds(workflow)) return;
  store.saveModel(definitionHash(text), FLOW_BUILD, workflow);
}

/** The kept model of the run's text, as that run saw it (its file, its name), when this build kept one. */
export function keptModel(store: RunStore, run: RunRecord): Workflow | undefined {
  const model = store.loadModel(run.definitionHash, FLOW_BUILD);
  return model && { ...model, file: run.workflowPath, name: run.workflowName };
}
