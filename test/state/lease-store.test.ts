import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/model/errors.js';
import type { RunOwner, RunRecord } from '../../src/model/run.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { tempDir } from '../helpers/engine.js';
import { aRun } from '../helpers/records.js';

const owner = (token: string, pid = 1): RunOwner => ({ host: 'h', pid, processStart: '1', token });
const record = (id: string, extra: Partial<RunRecord> = {}): RunRecord =>
  aRun({ id, workflowPath: '/w.yaml', owner: owner('first'), heartbeatAt: 1, ...extra });
const dead = () => false;

describe('the owner lease in the state file', () => {
  const open = () => openSqliteStore(join(tempDir(), 'state.db'));

  it('a claim finds a run that succeeded meanwhile, and takes it only to re-run it (--from)', () => {
    const store = open();
    store.createRun(record('r1'));
    store.finishRun('r1', 'succeeded', '2026-01-01T00:00:01Z', { v: 1 }, undefined);
    expect(store.claimRun('r1', owner('second'), 10, dead).kind).toBe('succeeded');
    expect(store.getRun('r1')?.status).toBe('succeeded');
    const taken = store.claimRun('r1', owner('second'), 10, dead, true);
    expect(taken.kind === 'claimed' && taken.run.attempt).toBe(2);
    store.close();
  });

  it('a heartbeat keeps the child runs of its owner alive too, and says whether the run is still its own', () => {
    const store = open();
    store.createRun(record('parent'));
    store.createRun(record('child', { parentRunId: 'parent' }));
    expect(store.heartbeat('parent', 'first', 5000)).toBe(true);
    expect(store.getRun('child')?.heartbeatAt).toBe(5000);
    store.claimRun('parent', owner('thief'), 6000, dead);
    expect(store.heartbeat('parent', 'first', 7000)).toBe(false);
    store.close();
  });

  it('the fence refuses a write for a run that is no longer this owner’s, or no longer exists', () => {
    const store = open();
    store.createRun(record('r1'));
    expect(() => store.assertOwner('r1', 'first')).not.toThrow();
    expect(() => store.assertOwner('r1', 'other')).toThrow(LeaseLostError);
    expect(() => store.assertOwner('gone', 'first')).toThrow(/was removed from the state file/);
    store.close();
  });
});

describe('migrations', () => {
  it('marks results recorded before schema 3 that show a mask, so a resume runs their steps again', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { MIGRATIONS } = await import('../../src/state/migrations.js');
    const path = join(tempDir(), 'state.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.exec(MIGRATIONS[1]!);
    old.pragma('user_version = 2');
    old.exec(`INSERT INTO runs (id, workflow_name, workflow_path, definition, definition_hash, inputs, status, started_at)
              VALUES ('r1', 'w', '/w.yaml', 'steps: []', 'h', '{}', 'failed', '2026-01-01')`);
    const step = old.prepare(
      `INSERT INTO steps (run_id, step_id, item, status, output, outputs, attempts, started_at) VALUES ('r1', ?, -1, 'succeeded', ?, '{}', 1, '2026-01-01')`,
    );
    step.run('plain', '"ok"');
    step.run('secret', '"token=***"');
    old.close();
    const store = openSqliteStore(path);
    const masked = Object.fromEntries(store.stepResults('r1').map((r) => [r.stepId, r.result.masked === true]));
    expect(masked).toEqual({ plain: false, secret: true });
    store.close();
  });
});
