import { dispatch, type EventListener } from '../model/events.js';
import type { RunStore } from './run-store.js';

/** Records of steps without outside effects written per transaction at most. */
export const BATCH_SIZE = 256;

// The state store as a subscriber. A durable event is committed synchronously before the engine goes on,
// so a shell step's "attempt started" is on disk before its process exists and its result before the next
// step starts. Records of what has no effect outside the run (a transform, a group, a skip) are queued and
// committed in one transaction with the next durable record, every BATCH_SIZE records, and at the end:
// after a crash a resume recomputes at most those, which changes nothing outside the run.
export function recordEvents(store: RunStore, batchSize = BATCH_SIZE): EventListener {
  const queue: (() => void)[] = [];
  const flush = () => {
    if (queue.length === 0) return;
    const writes = queue.splice(0);
    store.transaction(() => {
      for (const w of writes) w();
    });
  };
  const write = (durable: boolean, w: () => void) => {
    if (!durable) {
      queue.push(w);
      if (queue.length >= batchSize) flush();
      return;
    }
    if (queue.length === 0) return store.transaction(w);
    queue.push(w);
    flush();
  };
  return dispatch({
    'run-started': (e) => {
      if (!e.resumed) write(true, () => store.createRun(e.run));
    },
    'run-finished': (e) => write(true, () => store.finishRun(e.runId, e.status, e.at, e.outputs, e.error)),
    'step-started': (e) => {
      if (e.attempt === 0) return;
      write(e.durable, () =>
        store.attemptStarted({
          runId: e.runId,
          stepId: e.stepId,
          item: e.item,
          attempt: e.attempt,
          status: 'running',
          error: undefined,
          startedAt: e.at,
          endedAt: undefined,
          delayMs: undefined,
        }),
      );
    },
    'step-output': () => {},
    'step-retrying': (e) =>
      write(e.durable, () =>
        store.attemptFinished({
          runId: e.runId,
          stepId: e.stepId,
          item: e.item,
          attempt: e.attempt,
          status: 'failed',
          error: e.error,
          startedAt: e.at,
          endedAt: e.at,
          delayMs: e.delayMs,
        }),
      ),
    'step-finished': (e) =>
      write(e.durable, () => {
        const r = e.result;
        if (e.attempt > 0)
          store.attemptFinished({
            runId: e.runId,
            stepId: e.stepId,
            item: e.item,
            attempt: e.attempt,
            status: r.status,
            error: r.error,
            startedAt: r.startedAt,
            endedAt: r.endedAt,
            delayMs: undefined,
          });
        store.stepFinished(e.runId, e.stepId, e.item, r);
      }),
    'step-restored': () => {},
    'cache-hit': () => {},
    log: () => {},
  });
}
