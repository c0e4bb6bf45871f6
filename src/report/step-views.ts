import type { Section } from '../language/semantic/step-tree.js';
import type { RunRecord, StepAttempt, StepResult, StepStatus } from '../model/run.js';
import type { RunHistory, RunSummary, StepSpend } from '../state/run-history.js';
import type { StoredStepResult } from '../state/run-store.js';
import { type StepPlace, stepLayout } from './step-layout.js';

// The steps of a recorded run as `flow show` lists them: the record gives results, the run's snapshot their places.

/** What `flow show` reads of one run. */
export interface RunDetail {
  run: RunRecord;
  steps: readonly StoredStepResult[];
  layout: readonly StepPlace[];
  children: readonly RunSummary[];
  /** What the model calls of the run and its child runs took, per step (state/run-history.ts). */
  spend: readonly StepSpend[];
  /** The attempts of the run's own steps, for each step's history of tries; absent: not read. */
  attempts?: readonly StepAttempt[];
}

/** Everything `flow show` (and the API's run) reads of one recorded run, in one place. */
export function readRunDetail(history: RunHistory, run: RunRecord): RunDetail {
  return {
    run,
    steps: history.steps(run.id),
    layout: stepLayout(run.definition),
    children: history.childRuns(run.id),
    spend: history.modelSpend(run.id),
    attempts: history.stepAttempts(run.id),
  };
}

/** A step as shown: in workflow order, with its place, and its for_each items gathered under it. */
export interface StepView {
  id: string;
  depth: number;
  group: string | undefined;
  section: Section;
  result: StepResult;
  items: { index: number; result: StepResult }[] | undefined;
}

/**
 * The recorded steps in the order of the workflow file, each inside its groups; a fallback's record (`<step>.<fallback>`)
 * right after its step; what the file does not name (a changed snapshot) last, in the order it started. A group or
 * for_each step still going (or stopped with its driver) has no record of its own yet: it is shown with the run's state.
 */
export function stepViews(detail: RunDetail): StepView[] {
  const byId = new Map<string, { self: StepResult | undefined; items: { index: number; result: StepResult }[] }>();
  for (const s of detail.steps) {
    const entry = byId.get(s.stepId) ?? { self: undefined, items: [] };
    if (s.item < 0) entry.self = s.result;
    else entry.items.push({ index: s.item, result: s.result });
    byId.set(s.stepId, entry);
  }
  const views: StepView[] = [];
  const shown = new Set<string>();
  const unfinished: StepStatus = detail.run.status === 'running' ? 'running' : 'interrupted';
  const add = (id: string, depth: number, group: string | undefined, section: Section, startedAt?: string) => {
    const entry = byId.get(id);
    const items = entry?.items.length ? entry.items.sort((a, b) => a.index - b.index) : undefined;
    const self = entry?.self ?? unrecorded(unfinished, startedAt ?? items?.[0]?.result.startedAt ?? detail.run.startedAt);
    views.push({ id, depth, group, section, result: self, items });
    shown.add(id);
  };
  const { layout } = detail;
  layout.forEach((place, i) => {
    if (!byId.has(place.id)) {
      // A group with no record of its own, around steps that have one.
      const inside = layout.slice(i + 1);
      const end = inside.findIndex((p) => p.depth <= place.depth);
      const first = (end < 0 ? inside : inside.slice(0, end)).find((p) => byId.has(p.id));
      if (!first) return;
      add(place.id, place.depth, place.group, place.section, firstStart(byId.get(first.id)));
    } else add(place.id, place.depth, place.group, place.section);
    for (const id of byId.keys())
      if (!shown.has(id) && id.startsWith(`${place.id}.`))
        add(id, place.depth, place.group, place.section === 'steps' ? 'fallbacks' : place.section);
  });
  for (const id of byId.keys()) if (!shown.has(id)) add(id, 0, undefined, 'steps');
  return views;
}

function unrecorded(status: StepStatus, startedAt: string): StepResult {
  return { status, output: null, outputs: {}, error: undefined, reason: undefined, attempts: 0, startedAt, endedAt: undefined };
}

function firstStart(entry: { self: StepResult | undefined; items: { result: StepResult }[] } | undefined): string | undefined {
  return entry?.self?.startedAt ?? entry?.items[0]?.result.startedAt;
}
