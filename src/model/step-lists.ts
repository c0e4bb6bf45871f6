import type { ActionStep, Step, Workflow } from './workflow.js';

/** Every action step in these lists, inside groups too, in file order. */
export function actionSteps(steps: readonly Step[]): ActionStep[] {
  return steps.flatMap((s) => (s.kind === 'action' ? [s] : actionSteps(s.steps)));
}

/** The lists of steps a run runs: its steps and its handlers (fallbacks are not among them: they stand in for a step). */
export function runSections(workflow: Workflow): Step[] {
  return [...workflow.steps, ...workflow.onSuccess, ...workflow.onFailure, ...workflow.finally];
}
