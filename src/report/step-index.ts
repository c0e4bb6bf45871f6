import type { Section } from '../language/semantic/step-tree.js';
import type { SourceLocation, Step, Workflow } from '../model/workflow.js';

/** What a reporter knows of a step besides its events: its name, its place in the file and the groups around it. */
export interface StepInfo {
  id: string;
  name: string | undefined;
  kind: Step['kind'];
  forEach: boolean;
  section: Section;
  /** The ids of the groups around it, outermost first. */
  groups: readonly string[];
  at: SourceLocation;
}

export type StepIndex = ReadonlyMap<string, StepInfo>;

// Events name steps by id; the validated workflow places them. Built once per run, before the first event.
export function stepIndex(workflow: Workflow): StepIndex {
  const index = new Map<string, StepInfo>();
  const walk = (steps: readonly Step[], section: Section, groups: readonly string[]) => {
    for (const step of steps) {
      index.set(step.id, {
        id: step.id,
        name: step.name,
        kind: step.kind,
        forEach: step.kind === 'action' && step.forEach !== undefined,
        section,
        groups,
        at: step.at,
      });
      if (step.kind !== 'action') walk(step.steps, section, [...groups, step.id]);
    }
  };
  walk(workflow.steps, 'steps', []);
  walk(workflow.onSuccess, 'on_success', []);
  walk(workflow.onFailure, 'on_failure', []);
  walk(workflow.finally, 'finally', []);
  walk(workflow.fallbacks, 'fallbacks', []);
  return index;
}

/**
 * A step by the id its events carry. A fallback runs as `<step>.<fallback>`: it sits where the step it stands in
 * for sits, and its definition is the fallback's.
 */
export function stepInfo(index: StepIndex, stepId: string): StepInfo | undefined {
  const own = index.get(stepId);
  if (own) return own;
  const dot = stepId.lastIndexOf('.');
  if (dot < 0) return undefined;
  const step = index.get(stepId.slice(0, dot));
  const fallback = index.get(stepId.slice(dot + 1));
  if (!step || !fallback) return undefined;
  return { ...fallback, id: stepId, section: step.section, groups: step.groups };
}
