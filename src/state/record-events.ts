import { dispatch, type EventListener } from '../model/events.js';
import { failpoint } from './failpoints.js';
import type { RunStore } from './run-store.js';

export interface RecordOptions {
  batchSize?: number;
  /** The owner's token: every transaction first checks that it still owns the run (the fence), else throws. */
  token?: string;
}

/** Records of steps without outside effects written per transaction at most. */
export const BATCH_SIZE = 256;

// The state store as a subscriber. A durable event is committed synchronously before the engine goes on,
// so a shell step's "attempt started" is on disk before its process exists and its result before the next
// step starts. Records of what has no effect outside the run (a transform, a group, a skip) are queued and
// committed in one transaction with the next durable record, every BATCH_SIZE records, and at the end:
// after a crash a resume recomputes at most those, which changes nothing outside the run.
// The run's own id is the first run-started seen; child runs that follow are fenced by the same lease.
export function recordEvents(store: RunStore, options: RecordOptions = {}): EventListener {
  const batchSize = options.batchSize ?? BATCH_SIZE;
  let rootRunId: string | undefined;
  // From the moment the run's record exists, a write finds it owned by this token or stops.
  let fenced = false;
  const fence = () => {
    if (options.token && fenced) store.assertOwner(rootRunId!, options.token);
  };
  const queue: (() => void)[] = [];
  const flush = () => {
    if (queue.length === 0) return;
    const writes = queue.splice(0);
    const half = writes.length >> 1;
    store.transaction(() => {
      fence();
      writes.forEach((w, i) => {
        if (i === half && i > 0) failpoint('in-batch-commit');
        w();
      });
    });
  };
  const write = (durable: boolean, w: () => void) => {
    if (!durable) {
      queue.push(w);
      if (queue.length >= batchSize) flush();
      return;
    }
    queue.push(w);
    flush();
  };
  // Output is numbered per attempt, so `flow logs` gives it back in order.
  const lineNumbers = new Map<string, number>();
  return dispatch({
    'run-started': (e) => {
      const root = rootRunId === undefined;
      rootRunId ??= e.run.id;
      if (!e.resumed) write(true, () => store.createRun(e.run));
      if (root) fenced = true;
    },
    'run-finished': (e) =>
      write(true, () => {
        if (e.runId === rootRunId) failpoint('in-run-finish');
        store.finishRun(e.runId, e.status, e.at, e.outputs, e.error);
      }),
    'step-started': (e) => {
      if (e.attempt === 0) return;
      if (e.durable) failpoint('before-attempt-record');
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
    'step-output': (e) => {
      const key = `${e.runId}/${e.stepId}#${e.item}@${e.attempt}`;
      const seq = (lineNumbers.get(key) ?? 0) + 1;
      lineNumbers.set(key, seq);
      write(false, () => store.appendLog(e.runId, e.stepId, e.item, e.attempt, seq, e.stream, e.text));
    },
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
          ai: e.ai,
        }),
      ),
    'step-finished': (e) => {
      lineNumbers.delete(`${e.runId}/${e.stepId}#${e.item}@${e.attempt}`);
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
            ai: e.ai,
          });
        store.stepFinished(e.runId, e.stepId, e.item, r);
      });
    },
    'step-tokens': () => {},
    'step-restored': () => {},
    'step-items': () => {},
    'cache-hit': () => {},
    log: () => {},
  });
}
