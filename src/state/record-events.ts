import { eventLine } from '../model/event-json.js';
import { FlowError } from '../model/errors.js';
import { type EventListener, type EventOf, type FlowEvent, dispatch } from '../model/events.js';
import { failpoint } from './failpoints.js';
import type { StepAttempt } from '../model/run.js';
import type { RunStore, StoredLogChunk } from './run-store.js';

export interface RecordOptions {
  batchSize?: number;
  /** The owner's token: every transaction first checks that it still owns the run (the fence), else throws. */
  token?: string;
  /** Milliseconds since the epoch, stamped on each stored event line; fixed in tests. */
  now?: () => number;
  /**
   * Told when a commit made after the event that asked for it (once the loop has turned, or by the timer) fails: a
   * lost lease, a full disk. The run is to stop at once, as when a commit the engine waits for throws; a fault of the
   * state store is also thrown at the engine's next record, so nothing more is written.
   */
  onLateFailure?: (err: unknown) => void;
}

/** Records of steps without outside effects written per transaction at most. */
export const BATCH_SIZE = 256;
/** The longest a chunk of output grows before it is written: output is stored in chunks of whole lines, not per line. */
export const CHUNK_CHARS = 16 * 1024;
/**
 * The longest anything recorded waits for its commit, so another process following the run (flow logs --follow, the
 * server) sees a long step's output while it runs, not when it ends.
 */
export const FOLLOW_MS = 100;

/**
 * When a record is committed: `now`, before the engine goes on; `next`, with the next record committed now, and at
 * the latest once the engine has let the event loop turn (a timer of 0 ms: about a millisecond after it starts to
 * wait for anything); `batched`, with the next record committed, in a batch, or after FOLLOW_MS.
 */
type Commit = 'now' | 'next' | 'batched';

type AttemptEvent = Pick<EventOf<'step-started'>, 'runId' | 'stepId' | 'item' | 'attempt'>;
const attemptKey = (e: AttemptEvent) => `${e.runId}/${e.stepId}#${e.item}@${e.attempt}`;

interface PendingChunk extends Omit<StoredLogChunk, 'eventSeq' | 'seq' | 'time'> {
  key: string;
}

// The state store as a subscriber. A step with an effect outside the run (a shell step) has its attempt committed
// synchronously, before its process exists. Its result is committed with the next record that must be on disk (the
// next such attempt, the run's end), and at the latest about a millisecond after the engine starts to wait for
// anything: so it is on disk before any later step with an outside effect starts, in one commit per step instead of
// two. A crash between the two runs the step again, as one before its result was recorded always did. Records of what
// has no effect outside the run (a transform, a group, a skip) are queued and committed in one transaction with the
// next durable record, every BATCH_SIZE records, at the end, and at most FOLLOW_MS after they were queued: after a
// crash a resume recomputes at most those, which changes nothing outside the run. Every event is also kept as its JSON
// line, numbered in its run's sequence together with the run's output chunks. The run's own id is the first
// run-started seen; child runs that follow are fenced by the same lease.
export function recordEvents(store: RunStore, options: RecordOptions = {}): EventListener {
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const now = options.now ?? Date.now;
  let rootRunId: string | undefined;
  // Runs this recorder created: a result one of them takes over from another run (a rerun) is written as its own.
  const created = new Set<string>();
  // From the moment the run's record exists, a write finds it owned by this token or stops.
  let fenced = false;
  const fence = () => {
    if (options.token && fenced) store.assertOwner(rootRunId!, options.token);
  };
  const queue: (() => void)[] = [];
  // A commit made after its event that failed on a fault of the state store (a lost lease, a full disk), or on any
  // fault when nobody is told of it: thrown at the engine's next record, so nothing more is written, as when a commit
  // the engine waits for fails.
  let failed: unknown;
  let timer: NodeJS.Timeout | undefined;
  // Not setImmediate: a run that gives the loop a turn between two steps (src/engine/event-loop-turns.ts) does it with
  // an immediate, which would come after this one and split the step's result from the next step's attempt.
  let turn: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    if (turn) clearTimeout(turn);
    timer = undefined;
    turn = undefined;
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
    // Output still being gathered keeps its timer: a follower sees a running step's last lines within FOLLOW_MS.
    if (chunks.size > 0) soon();
  };
  const commitLater = (closeOpenChunks: boolean) => {
    try {
      if (closeOpenChunks) closeChunks();
      flush();
    } catch (err) {
      if (err instanceof FlowError || !options.onLateFailure) failed = err;
      options.onLateFailure?.(err);
    }
  };
  const soon = () => {
    timer ??= setTimeout(commitLater, FOLLOW_MS, true).unref();
  };
  const write = (commit: Commit, w: () => void) => {
    if (failed !== undefined) throw failed;
    queue.push(w);
    if (commit === 'now' || queue.length >= batchSize) flush();
    else if (commit === 'next') turn ??= setTimeout(commitLater, 0, false);
    else soon();
  };

  // An in-process step (a transform) has its attempt written once, whole, when it ends (one write instead of two): its
  // start is kept until then, and its presence here says the attempt is one. After a crash such a step is computed
  // again, so an attempt row of it is never needed first.
  const inProcessStarts = new Map<string, string>();
  const startOf = (e: AttemptEvent): string | undefined => {
    const key = attemptKey(e);
    const at = inProcessStarts.get(key);
    inProcessStarts.delete(key);
    return at;
  };

  // Each run's sequence of events and output chunks, from where a resumed run's left off.
  const sequences = new Map<string, number>();
  const nextSeq = (runId: string) => {
    const seq = (sequences.get(runId) ?? store.lastEventSeq(runId)) + 1;
    sequences.set(runId, seq);
    return seq;
  };
  // Output is gathered per attempt into chunks of whole lines, numbered per attempt, so `flow logs` gives it back in order.
  const chunks = new Map<string, PendingChunk>();
  const chunkNumbers = new Map<string, number>();
  const closeChunk = (chunk: PendingChunk) => {
    chunks.delete(chunk.key);
    const seq = (chunkNumbers.get(chunk.key) ?? 0) + 1;
    chunkNumbers.set(chunk.key, seq);
    const record: StoredLogChunk = {
      runId: chunk.runId,
      stepId: chunk.stepId,
      item: chunk.item,
      attempt: chunk.attempt,
      stream: chunk.stream,
      text: chunk.text,
      seq,
      eventSeq: nextSeq(chunk.runId),
      time: now(),
    };
    queue.push(() => store.appendLog(record));
  };
  const closeChunks = () => {
    for (const chunk of [...chunks.values()]) closeChunk(chunk);
  };
  const output = (e: EventOf<'step-output'>) => {
    const key = attemptKey(e);
    let chunk = chunks.get(key);
    if (chunk && chunk.stream !== e.stream) closeChunk(chunk);
    chunk = chunks.get(key);
    if (!chunk) {
      chunk = { key, runId: e.runId, stepId: e.stepId, item: e.item, attempt: e.attempt, stream: e.stream, text: '' };
      chunks.set(key, chunk);
    }
    chunk.text += e.text;
    while (chunk.text.length >= CHUNK_CHARS) {
      const rest = chunk.text.slice(CHUNK_CHARS);
      chunk.text = chunk.text.slice(0, CHUNK_CHARS);
      closeChunk(chunk);
      if (rest === '') break;
      chunk = { ...chunk, text: rest };
      chunks.set(key, chunk);
    }
    if (failed !== undefined) throw failed;
    if (queue.length >= batchSize) flush();
    else soon();
  };

  // Every event but output (stored as chunks) and a streamed answer's tokens (its lines are output), as its line.
  const eventRow = (event: FlowEvent & { runId: string }) => {
    closeChunks();
    const seq = nextSeq(event.runId);
    const line = eventLine(event, now());
    return () => store.appendEvent(event.runId, seq, event.type, line);
  };
  const record = (commit: Commit, event: FlowEvent & { runId: string }, w?: () => void) => {
    const row = eventRow(event);
    write(commit, () => {
      w?.();
      row();
    });
  };

  return dispatch({
    'run-started': (e) => {
      const root = rootRunId === undefined;
      rootRunId ??= e.run.id;
      const event = { ...e, runId: e.run.id };
      if (!e.resumed) {
        created.add(e.run.id);
        record('now', event, () => store.createRun(e.run));
      } else record('now', event);
      if (root) fenced = true;
    },
    'run-finished': (e) => {
      // The last step's result in a commit of its own, before the run's end: a crash as the run ends loses neither.
      if (failed !== undefined) throw failed;
      flush();
      record('now', e, () => {
        if (e.runId === rootRunId) failpoint('in-run-finish');
        store.finishRun(e.runId, e.status, e.at, e.outputs, e.error);
      });
    },
    'step-started': (e) => {
      if (e.attempt === 0) return record('batched', e);
      if (e.inProcess === true) {
        inProcessStarts.set(attemptKey(e), e.at);
        return record('batched', e);
      }
      if (e.durable) failpoint('before-attempt-record');
      // A remote attempt (not durable here: the queue's record of its job is) is recorded running, in a batch.
      record(e.durable ? 'now' : 'batched', e, () =>
        store.recordAttempt({
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
      if (e.durable) failpoint('after-attempt-record');
    },
    'step-output': output,
    'step-tokens': () => {},
    'step-retrying': (e) => {
      const attempt: StepAttempt = {
        runId: e.runId,
        stepId: e.stepId,
        item: e.item,
        attempt: e.attempt,
        // An attempt whose worker was lost is submitted again at once: it was interrupted, not failed.
        status: e.error.class === 'interrupted' ? 'interrupted' : 'failed',
        error: e.error,
        startedAt: e.at,
        endedAt: e.at,
        delayMs: e.delayMs,
        ai: e.ai,
      };
      const inProcessStart = startOf(e);
      if (inProcessStart === undefined) return record(e.durable ? 'next' : 'batched', e, () => store.attemptFinished(attempt));
      attempt.startedAt = inProcessStart;
      record('batched', e, () => store.recordAttempt(attempt));
    },
    'step-finished': (e) => {
      const r = e.result;
      const inProcessStart = e.attempt > 0 ? startOf(e) : undefined;
      const attempt: StepAttempt | undefined =
        e.attempt > 0
          ? {
              runId: e.runId,
              stepId: e.stepId,
              item: e.item,
              attempt: e.attempt,
              status: r.status,
              error: r.error,
              startedAt: inProcessStart ?? r.startedAt,
              endedAt: r.endedAt,
              delayMs: undefined,
              ai: e.ai,
            }
          : undefined;
      record(e.durable ? 'next' : 'batched', e, () => {
        if (attempt && inProcessStart !== undefined) store.recordAttempt(attempt);
        else if (attempt) store.attemptFinished(attempt);
        store.stepFinished(e.runId, e.stepId, e.item, r);
      });
      chunkNumbers.delete(attemptKey(e));
    },
    'step-restored': (e) =>
      record('batched', e, created.has(e.runId) ? () => store.stepFinished(e.runId, e.stepId, e.item, e.result) : undefined),
    'step-items': (e) => record('batched', e),
    'cache-hit': (e) => record('batched', e),
    log: (e) => record('batched', e),
  });
}
