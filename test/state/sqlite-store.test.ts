import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/state/migrations.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import { StateFileError } from '../../src/model/errors.js';
import { runYaml, tempDir } from '../helpers/engine.js';
import { query } from '../helpers/state.js';

describe('the SQLite state file', () => {
  it('is created 0600 in a 0700 directory, in WAL mode, at the current schema version', () => {
    const dir = tempDir();
    const path = join(dir, '.flow', 'state.db');
    openSqliteStore(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.flow')).mode & 0o777).toBe(0o700);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a file written by a newer flow', () => {
    const path = join(tempDir(), 'state.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore(path)).toThrow(StateFileError);
  });

  it('refuses a file that is not a database with a clear error', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'state.db'), 'this is not sqlite, just text that is long enough to look like a header............');
    expect(() => openSqliteStore(join(dir, 'state.db'))).toThrow(/cannot use the state file/);
  });

  it('refuses a file whose schema lost a table, naming the file, and lets go of it', () => {
    const path = join(tempDir(), 'state.db');
    openSqliteStore(path).close();
    const db = new Database(path);
    db.exec('DROP TABLE cache');
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/cannot use the state file .*state\.db.*no such table: cache/s);
    // The last connection to close takes the write-ahead log with it: one left open would keep it.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('records the run, its definition, masked inputs, each step and each attempt', async () => {
    const yaml =
      'inputs:\n  token: { type: string, secret: true }\n  n: { type: integer }\nsteps:\n  - { id: a, type: shell, config: { run: "true" } }\n  - id: each\n    for_each: [1, 2]\n    type: transform\n    config: { value: "${{ item }}" }\n';
    const run = await runYaml(yaml, { inputs: { token: 'hunter2-secret', n: 3 } });
    const store = openSqliteStore(run.statePath);
    try {
      const record = store.getRun(run.outcome.runId)!;
      expect(record).toMatchObject({ status: 'succeeded', definition: yaml, inputs: { token: '***', n: 3 } });
      expect(record.definitionHash).toMatch(/^[0-9a-f]{64}$/);
      expect(record.endedAt).toBeDefined();
      const steps = store.stepResults(run.outcome.runId).map((s) => [s.stepId, s.item, s.result.status, s.result.output]);
      expect(steps).toEqual(
        expect.arrayContaining([
          ['a', -1, 'succeeded', { exit_code: 0, stdout: '', stderr: '' }],
          ['each', 0, 'succeeded', 1],
          ['each', 1, 'succeeded', 2],
          ['each', -1, 'succeeded', [1, 2]],
        ]),
      );
      const attempts = query<{ step_id: string; item: number; attempt: number; status: string }>(
        run.statePath,
        'SELECT step_id, item, attempt, status FROM attempts WHERE run_id = ?',
        run.outcome.runId,
      );
      expect(attempts.map((a) => [a.step_id, a.item, a.attempt, a.status])).toEqual(
        expect.arrayContaining([
          ['a', -1, 1, 'succeeded'],
          ['each', 0, 1, 'succeeded'],
        ]),
      );
      expect(query<{ id: string }>(run.statePath, 'SELECT id FROM runs').map((r) => r.id)).toContain(run.outcome.runId);
    } finally {
      store.close();
    }
  });
});

describe('the run loop starts from a recorded state', () => {
  it('restores succeeded steps and items without running them again, and runs the rest', async () => {
    const dir = tempDir();
    const yaml =
      'steps:\n  - { id: a, type: shell, config: { run: "echo a >> ran; echo A" } }\n' +
      '  - id: each\n    for_each: [1, 2, 3]\n    type: shell\n    config: { run: "echo item${{ item }} >> ran; [ ${{ item }} != 2 ] || [ -f fixed ]" }\n' +
      '  - { id: c, type: transform, config: { value: "${{ steps.a.output.stdout }}" } }\n';
    const first = await runYaml(yaml, { dir });
    expect(first.outcome.status).toBe('failed');
    const store = openSqliteStore(first.statePath);
    const recorded = store.stepResults(first.outcome.runId);
    store.close();
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'fixed'), '');
    const resume = { attempt: 2, startedAt: new Date().toISOString(), lastAttempt: () => 0 };
    const second = await runYaml(yaml, { dir, recorded, resume, runId: first.outcome.runId });
    expect(second.outcome.status).toBe('succeeded');
    expect(readFileSync(join(dir, 'ran'), 'utf8').trim().split('\n')).toEqual(['a', 'item1', 'item2', 'item2', 'item3']);
    expect(second.outcome.results.get('c')?.output).toBe('A\n');
    expect(
      second.events.filter((e) => e.type === 'step-restored').map((e) => (e.type === 'step-restored' ? `${e.stepId}#${e.item}` : '')),
    ).toEqual(['a#-1', 'each#0']);
  });
});
