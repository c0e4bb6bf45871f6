import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { tempDir } from '../helpers/engine.js';

// The lease's contract (claims, heartbeats, the fence) is in run-store.contract.test.ts, on both stores.

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
