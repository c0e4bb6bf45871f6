import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../src/model/events.js';
import type { RunRecord, StepResult } from '../../src/model/run.js';
import { recordEvents } from '../../src/state/record-events.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { tempDir } from '../helpers/engine.js';
import { aResult, aRun } from '../helpers/records.js';

const run: RunRecord = aRun();
const done: StepResult = aResult('succeeded', { output: 1, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:01Z' });
const started = (stepId: string, durable: boolean): FlowEvent => ({
  type: 'step-started',
  runId: 'r1',
  stepId,
  item: -1,
  attempt: 1,
  kind: 'action',
  at: '2026-01-01T00:00:00Z',
  durable,
});
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
  it('commits a durable attempt start before returning, and its result with it', () => {
    const path = join(tempDir(), 'state.db');
    const store = openSqliteStore(path);
    const record = recordEvents(store);
    record({ type: 'run-started', run, resumed: false });
    expect(committed(path).run).toBe('running');
    record(started('shell_step', true));
    expect(committed(path).attempts).toEqual(['shell_step:running']);
    record(finished('shell_step', true));
    expect(committed(path)).toMatchObject({ attempts: ['shell_step:succeeded'], steps: ['shell_step'] });
    store.close();
  });

  it('batches steps without outside effects until a durable record, the batch size, or the end of the run', () => {
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
