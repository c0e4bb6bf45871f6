import { isRecord } from '../language/plain-data.js';

/** How a workflow file differs from the snapshot a run recorded. */
export interface Drift {
  /** Steps (main steps, handlers, fallbacks) whose definition changed, or that are new, in the new file's order. */
  changed: string[];
  removed: string[];
  /** Top-level settings that every step may read (env, defaults, inputs, secrets, ...). */
  settings: string[];
}

/** Keys that describe the run without changing what a step does. */
const INERT = new Set([
  'name',
  'version',
  'description',
  'outputs',
  'steps',
  'on_success',
  'on_failure',
  'finally',
  'fallbacks',
  'timeout',
]);
const STEP_LISTS = ['steps', 'on_success', 'on_failure', 'finally', 'fallbacks'];

// Compares two workflows as plain data (the parsed YAML), step by step: a pure function, so a resume can name what changed.
export function workflowDrift(before: unknown, after: unknown): Drift {
  const old = definitions(before);
  const now = definitions(after);
  const changed = [...now.keys()].filter((id) => now.get(id) !== old.get(id));
  const removed = [...old.keys()].filter((id) => !now.has(id));
  const a = isRecord(before) ? before : {};
  const b = isRecord(after) ? after : {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !INERT.has(k)));
  const settings = [...keys].filter((k) => canonical(a[k]) !== canonical(b[k]));
  return { changed, removed, settings };
}

export function hasDrift(drift: Drift): boolean {
  return drift.changed.length + drift.removed.length + drift.settings.length > 0;
}

/** Each step's definition as canonical JSON, a group without its children (they are compared on their own). */
function definitions(doc: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const step of list) {
      if (!isRecord(step) || typeof step['id'] !== 'string') continue;
      const { steps, parallel, ...own } = step;
      const { steps: branches, ...parallelOwn } = isRecord(parallel) ? parallel : { steps: undefined };
      out.set(step['id'], canonical({ ...own, ...(isRecord(parallel) ? { parallel: parallelOwn } : {}) }));
      walk(steps ?? branches);
    }
  };
  if (isRecord(doc)) for (const key of STEP_LISTS) walk(doc[key]);
  return out;
}

function canonical(value: unknown): string {
  return JSON.stringify(sorted(value)) ?? 'undefined';
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (isRecord(value))
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted(value[k])]),
    );
  return value;
}
