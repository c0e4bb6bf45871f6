import { dispatch, type EventListener } from '../model/events.js';
import type { RunStore } from './run-store.js';

// The state store as a subscriber: each event is committed synchronously before the engine goes on,
// so "attempt started" is on disk before the step's process exists.
export function recordEvents(store: RunStore): EventListener {
  return dispatch({
    'run-started': (e) => {
      if (!e.resumed) store.createRun(e.run);
    },
    'run-finished': (e) => store.finishRun(e.runId, e.status, e.at, e.outputs, e.error),
    'step-started': (e) => {
      if (e.attempt > 0) store.attemptStarted({ runId: e.runId, stepId: e.stepId, item: e.item, attempt: e.attempt, status: 'running', error: undefined, startedAt: e.at, endedAt: undefined, delayMs: undefined });
    },
    'step-output': () => {},
    'step-retrying': (e) =>
      store.attemptFinished({ runId: e.runId, stepId: e.stepId, item: e.item, attempt: e.attempt, status: 'failed', error: e.error, startedAt: e.at, endedAt: e.at, delayMs: e.delayMs }),
    'step-finished': (e) => {
      const r = e.result;
      if (e.attempt > 0) store.attemptFinished({ runId: e.runId, stepId: e.stepId, item: e.item, attempt: e.attempt, status: r.status, error: r.error, startedAt: r.startedAt, endedAt: r.endedAt, delayMs: undefined });
      store.stepFinished(e.runId, e.stepId, e.item, r);
    },
    'step-restored': () => {},
    'cache-hit': () => {},
    log: () => {},
  });
}
