import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/events.js';
import { StateFileError } from '../../src/model/errors.js';
import type { RunRecord, StepResult } from '../../src/model/run.js';
import { eventLine } from '../../src/model/event-json.js';
import { CHUNK_CHARS, FOLLOW_MS, recordEvents } from '../../src/state/record-events.js';
import type { RunStore } from '../../src/state/run-store.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { tempDir } from '../helpers/engine.js';
import {
  runFinished,
  runStarted,
  stepError,
  stepFinished,
  stepOutput,
  stepRestored,
  stepRetrying,
  stepStarted,
  stepTokens,
} from '../helpers/events.js';
import { aResult, aRun } from '../helpers/records.js';

const run: RunRecord = aRun();
const done: StepResult = aResult('succeeded', { output: 1, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:01Z' });
// A step with outside effects (durable), or a transform (in-process).
const started = (stepId: string, durable: boolean): FlowEvent => ({
  type: 'step-started',
  runId: 'r1',
  stepId,
  item: -1,
  attempt: 1,
  kind: 'action',
  at: '2026-01-01T00:00:00Z',
  durable,
  inProcess: !durable,
});
// Long enough for the 0 ms timer that commits a durable result no record followed.
const loopTurns = () => new Promise((resolve) => setTimeout(resolve, 10));
const finished = (stepId: string, durable: boolean): FlowEvent => ({
  type: 'step-finished',
  runId: 'r1',
  stepId,
  item: -1,
  kind: 'action',
  attempt: 1,
  result: done,
  durationMs: 1,
  durable,
});

// What another process sees in the file: only what has been committed.
function committed(path: string): { attempts: string[]; steps: string[]; run: string | undefined } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      attempts: (db.prepare('SELECT step_id, status FROM attempts ORDER BY step_id').all() as { step_id: string; status: string }[]).map(
        (r) => `${r.step_id}:${r.status}`,
      ),
      steps: (db.prepare('SELECT step_id FROM steps ORDER BY step_id').all() as { step_id: string }[]).map((r) => r.step_id),
      run: (db.prepare('SELECT status FROM runs').get() as { status: string } | undefined)?.status,
    };
  } finally {
    db.close();
  }
}

describe('recordEvents', () => {
  it('commits a durable attempt start before returning, and its result with the next attempt start', () => {
    const path = join(tempDir(), 'state.db');
    const store = openSqliteStore(path);
    const record = recordEvents(store);
    record({ type: 'run-started', run, resumed: false });
    expect(committed(path).run).toBe('running');
    record(started('shell_step', true));
    expect(committed(path).attempts).toEqual(['shell_step:running']);
    record(finished('shell_step', true));
    // One commit per step: the result waits for the next record that must be on disk, and is committed with it.
    expect(committed(path)).toMatchObject({ attempts: ['shell_step:running'], steps: [] });
    record(started('next_step', true));
    expect(committed(path)).toMatchObject({ attempts: ['next_step:running', 'shell_step:succeeded'], steps: ['shell_step'] });
    store.close();
  });

  it('commits a durable result once the event loop turns when no record follows it at once, not at an immediate', async () => {
    const path = join(tempDir(), 'state.db');
    const store = openSqliteStore(path);
    const record = recordEvents(store);
    record({ type: 'run-started', run, resumed: false });
    record(started('shell_step', true));
    record(finished('shell_step', true));
    // A run gives the loop a turn between steps with an immediate: the result still waits for the next attempt.
    await new Promise((resolve) => setImmediate(resolve));
    expect(committed(path).steps).toEqual([]);
    await loopTurns();
    expect(committed(path)).toMatchObject({ attempts: ['shell_step:succeeded'], steps: ['shell_step'] });
    store.close();
  });

  it('stops on a fault of the state store in a late commit: tells the run, and throws at the next record', async () => {
    const path = join(tempDir(), 'state.db');
    const real = openSqliteStore(path);
    const fault = new StateFileError(path, 'disk full');
    const told: unknown[] = [];
    const record = recordEvents(
      {
        ...real,
        stepFinished: () => {
          throw fault;
        },
      },
      { onLateFailure: (err) => told.push(err) },
    );
    record({ type: 'run-started', run, resumed: false });
    record(started('shell_step', true));
    record(finished('shell_step', true));
    await loopTurns();
    expect(told).toEqual([fault]);
    expect(() => record(started('next_step', true))).toThrow(fault);
    // Nothing more was written: the attempt of the step whose result was lost stays running.
    expect(committed(path).attempts).toEqual(['shell_step:running']);
    real.close();
  });

  it('batches steps without outside effects until a durable record, the batch size, or the end of the run', async () => {
    const path = join(tempDir(), 'state.db');
    const store = openSqliteStore(path);
    const record = recordEvents(store, { batchSize: 4 });
    record({ type: 'run-started', run, resumed: false });
    record(started('t1', false));
    record(finished('t1', false));
    expect(committed(path).steps).toEqual([]);
    record(started('shell', true));
    expect(committed(path)).toMatchObject({ attempts: ['shell:running', 't1:succeeded'], steps: ['t1'] });
    record(finished('shell', true));
    await loopTurns();
    for (const id of ['t2', 't3']) {
      record(started(id, false));
      record(finished(id, false));
    }
    expect(committed(path).steps).toEqual(['shell', 't1', 't2', 't3']);
    record(started('t4', false));
    record(finished('t4', false));
    expect(committed(path).steps).toEqual(['shell', 't1', 't2', 't3']);
    record({
      type: 'run-finished',
      runId: 'r1',
      status: 'succeeded',
      durationMs: 5,
      error: undefined,
      outputs: {},
      at: '2026-01-01T00:00:05Z',
    });
    expect(committed(path)).toMatchObject({ steps: ['shell', 't1', 't2', 't3', 't4'], run: 'succeeded' });
    store.close();
  });
});

/** The store itself, noting each write of an attempt: `record N status` (a whole row) or `update N status`. */
function noteAttemptWrites(store: RunStore, writes: string[]): RunStore {
  return {
    ...store,
    recordAttempt: (a) => {
      writes.push(`record ${a.attempt} ${a.status}`);
      store.recordAttempt(a);
    },
    attemptFinished: (a) => {
      writes.push(`update ${a.attempt} ${a.status}`);
      store.attemptFinished(a);
    },
  };
}

describe('recordEvents: the attempts of a step without outside effects', () => {
  it('writes each attempt once, whole, when it ends, with the time it started', () => {
    const path = join(tempDir(), 'state.db');
    const store = openSqliteStore(path);
    const writes: string[] = [];
    const record = recordEvents(noteAttemptWrites(store, writes));
    record(runStarted());
    const inProcess = { durable: false, inProcess: true };
    record(stepStarted('t', { ...inProcess, at: '2026-01-01T00:00:01Z' }));
    record(stepRetrying('t', 1, 0, stepError('no', 'error'), { ...inProcess, at: '2026-01-01T00:00:02Z' }));
    record(stepStarted('t', { ...inProcess, attempt: 2, at: '2026-01-01T00:00:03Z' }));
    record(stepFinished('t', 1, { attempts: 2, startedAt: '2026-01-01T00:00:01Z', endedAt: '2026-01-01T00:00:04Z' }, inProcess));
    record(runFinished('succeeded', 4));
    expect(writes).toEqual(['record 1 failed', 'record 2 succeeded']);
    const db = new Database(path, { readonly: true });
    const attempts = db.prepare('SELECT attempt, status, started_at, ended_at, error FROM attempts ORDER BY attempt').all();
    db.close();
    expect(attempts).toEqual([
      {
        attempt: 1,
        status: 'failed',
        started_at: '2026-01-01T00:00:01Z',
        ended_at: '2026-01-01T00:00:02Z',
        error: expect.stringContaining('"no"'),
      },
      { attempt: 2, status: 'succeeded', started_at: '2026-01-01T00:00:03Z', ended_at: '2026-01-01T00:00:04Z', error: null },
    ]);
    store.close();
  });
});

describe('recordEvents: a late commit that fails, with nobody told', () => {
  it('throws any failure at the next record', async () => {
    const path = join(tempDir(), 'state.db');
    const real = openSqliteStore(path);
    const fault = new Error('bug in a store');
    const record = recordEvents({
      ...real,
      stepFinished: () => {
        throw fault;
      },
    });
    record(runStarted());
    record(stepStarted('s'));
    record(stepFinished('s', 1));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(() => record(runFinished('succeeded', 1))).toThrow(fault);
    real.close();
  });
});

describe('recordEvents: the attempt of a step run on a worker', () => {
  it('records it running when it starts, in a batch, and its end over it', () => {
    const path = join(tempDir(), 'state.db');
    const store = openSqliteStore(path);
    const writes: string[] = [];
    const record = recordEvents(noteAttemptWrites(store, writes));
    record(runStarted());
    // Under --remote a shell step is not durable here (the queue's record of its job is), nor in-process.
    record(stepStarted('s', { durable: false }));
    record(stepFinished('s', 1, {}, { durable: false }));
    record(runFinished('succeeded', 1));
    expect(writes).toEqual(['record 1 running', 'update 1 succeeded']);
    expect(committed(path).attempts).toEqual(['s:succeeded']);
    store.close();
  });
});

describe('recordEvents: what a follower reads', () => {
  const rows = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return {
        events: db.prepare('SELECT seq, type, line FROM events ORDER BY seq').all() as { seq: number; type: string; line: string }[],
        logs: db.prepare('SELECT event_seq, seq, stream, text FROM logs ORDER BY event_seq').all() as {
          event_seq: number;
          seq: number;
          stream: string;
          text: string;
        }[],
      };
    } finally {
      db.close();
    }
  };

  it('keeps every event as its --json line, numbered with the output chunks in one sequence per run, and a resume goes on from there', () => {
    const path = join(tempDir(), 'state.db');
    const events: FlowEvent[] = [
      runStarted(),
      stepStarted('build'),
      stepOutput('build', 'one\n'),
      stepOutput('build', 'two\n'),
      stepOutput('build', 'oops\n', { stream: 'stderr' }),
      stepTokens('build', 'not stored'),
      stepFinished('build', 5),
      runFinished('failed', 9),
    ];
    const store = openSqliteStore(path);
    const record = recordEvents(store, { now: () => 0 });
    for (const e of events) record(e);
    const first = rows(path);
    // Consecutive lines of one stream are one chunk; the other stream starts another.
    expect(first.logs.map((l) => [l.event_seq, l.seq, l.stream, l.text])).toEqual([
      [3, 1, 'stdout', 'one\ntwo\n'],
      [4, 2, 'stderr', 'oops\n'],
    ]);
    expect(first.events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'run-started'],
      [2, 'step-started'],
      [5, 'step-finished'],
      [6, 'run-finished'],
    ]);
    const stored = [events[0]!, events[1]!, events[6]!, events[7]!];
    expect(first.events.map((e) => e.line)).toEqual(stored.map((e) => eventLine(e, 0)));
    const again = recordEvents(store, { now: () => 0 });
    again(runStarted({}, { resumed: true }));
    again(stepRestored('build', aResult('succeeded')));
    again(runFinished('succeeded', 1));
    expect(
      rows(path)
        .events.slice(-3)
        .map((e) => [e.seq, e.type]),
    ).toEqual([
      [7, 'run-started'],
      [8, 'step-restored'],
      [9, 'run-finished'],
    ]);
    store.close();
  });

  it('commits a long step’s output within FOLLOW_MS while it runs, in chunks of at most CHUNK_CHARS', async () => {
    const path = join(tempDir(), 'state.db');
    const store = openSqliteStore(path);
    const record = recordEvents(store);
    record(runStarted());
    record(stepStarted('build'));
    record(stepOutput('build', 'first line\n'));
    expect(rows(path).logs).toEqual([]);
    await new Promise((r) => setTimeout(r, FOLLOW_MS + 50));
    expect(rows(path).logs.map((l) => l.text)).toEqual(['first line\n']);
    const big = `${'x'.repeat(CHUNK_CHARS + 10)}\n`;
    record(stepOutput('build', big));
    record(stepFinished('build', 5));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const texts = rows(path).logs.map((l) => l.text);
    expect(texts.slice(1).join('')).toBe(big);
    expect(Math.max(...texts.map((t) => t.length))).toBeLessThanOrEqual(CHUNK_CHARS);
    store.close();
  });
});
