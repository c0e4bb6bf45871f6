import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/state/sqlite-open.js';
import { FLOW_BIN, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { defaultState, query } from '../helpers/state.js';

let dir: string;
const write = (name: string, text: string) => writeFileSync(join(dir, name), text);

beforeEach(() => {
  dir = tempDir('flow-state-');
});

// Small file systems of our own for a read-only directory and a full disk; root can write anywhere else.
const mounts: string[] = [];
function mountTmpfs(options: string): string | undefined {
  const at = tempDir('flow-mount-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
  if (r.status !== 0) return undefined;
  mounts.push(at);
  return at;
}
afterAll(() => {
  for (const at of mounts) spawnSync('umount', ['-l', at]);
});
const canMount = process.platform === 'linux' && process.getuid?.() === 0 && mountTmpfs('size=64k') !== undefined;

const oneLineError = (stderr: string, path: string) => {
  expect(stderr).toContain(`cannot use the state file '${path}'`);
  expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
};

describe('many processes, one state file', () => {
  it('8 flow run processes started together on a new state file all complete, every record intact', async () => {
    write(
      'w.yaml',
      'steps:\n  - { id: a, type: shell, config: { run: "echo a" } }\n  - { id: t, type: transform, config: { value: 1 } }\n',
    );
    const codes = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<number | null>((resolve) => {
            const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], { cwd: dir, stdio: 'ignore' });
            child.on('close', resolve);
          }),
      ),
    );
    expect(codes).toEqual(Array(8).fill(0));
    const state = defaultState(dir);
    expect(query<{ status: string; n: number }>(state, 'SELECT status, count(*) AS n FROM runs GROUP BY status')).toEqual([
      { status: 'succeeded', n: 8 },
    ]);
    expect(query<{ n: number }>(state, 'SELECT count(*) AS n FROM steps')).toEqual([{ n: 16 }]);
    expect(query<{ integrity_check: string }>(state, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });
});

describe('a state file flow cannot use', () => {
  it('a file that is not a database: one clear error naming it, exit 2', () => {
    write('w.yaml', 'steps:\n  - { id: a, type: shell, config: { run: "touch ran" } }\n');
    mkdirSync(join(dir, '.flow'));
    writeFileSync(defaultState(dir), 'x'.repeat(4096));
    const r = flow(['run', 'w.yaml'], dir);
    expect(r.code).toBe(2);
    oneLineError(r.stderr, defaultState(dir));
    expect(r.stderr).toContain('not a flow state file, or it is damaged');
  });

  it('a URL of a kind flow cannot keep runs at, from --state or FLOW_STATE: refused, never taken for a path, its password not shown', () => {
    write('w.yaml', 'steps:\n  - { id: a, type: shell, config: { run: "touch ran" } }\n');
    const r = flow(['run', 'w.yaml', '--state', 'mysql://flow:hunter2@127.0.0.1:3306/flow'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--state mysql://flow:***@127.0.0.1:3306/flow: flow cannot keep runs at a mysql:// URL');
    expect(r.stderr).not.toContain('hunter2');
    const fromEnv = flow(['runs'], dir, { FLOW_STATE: 'redis://db/flow' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('FLOW_STATE redis://db/flow: flow cannot keep runs at a redis:// URL');
    expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).toBe('w.yaml\n');
  });

  it.skipIf(!canMount)('a read-only directory: one clear error naming the file, and nothing run', () => {
    const at = mountTmpfs('size=64k,ro')!;
    write('w.yaml', 'steps:\n  - { id: a, type: shell, config: { run: "touch ran" } }\n');
    const state = join(at, 'state.db');
    const r = flow(['run', 'w.yaml', '--state', state], dir);
    expect(r.code).toBe(2);
    oneLineError(r.stderr, state);
    expect(r.stderr).toContain('cannot be written here');
    expect(spawnSync('test', ['-e', join(dir, 'ran')]).status).toBe(1);
  });

  it.skipIf(!canMount)('a disk that fills during the run: one clear error naming the file, and no half-written step', () => {
    const at = mountTmpfs('size=320k')!;
    const state = join(at, 'state.db');
    // The first step's record fits; the second step's 1 MiB of output cannot be stored.
    write(
      'w.yaml',
      'steps:\n  - { id: small, type: shell, config: { run: "echo small" } }\n  - { id: big, type: shell, config: { run: "head -c 1000000 /dev/zero | tr \'\\\\0\' x" } }\n',
    );
    const r = flow(['run', 'w.yaml', '--state', state], dir);
    expect(r.code).toBe(2);
    oneLineError(r.stderr, state);
    expect(r.stderr).toContain('the disk is full');
    spawnSync('mount', ['-o', 'remount,size=4m', at]);
    const steps = query<{ step_id: string; status: string }>(state, 'SELECT step_id, status FROM steps ORDER BY step_id');
    expect(steps).toEqual([{ step_id: 'small', status: 'succeeded' }]);
    expect(query<{ integrity_check: string }>(state, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });
});

describe('a file that is not flow’s', () => {
  it('is refused, untouched: another program’s database keeps its tables and its mode', () => {
    const other = join(dir, 'other.db');
    const db = openForeign(other);
    chmodSync(other, 0o644);
    const r = flow(['runs', '--state', other], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a SQLite database of another program');
    expect(statSync(other).mode & 0o777).toBe(0o644);
    expect(query<{ name: string }>(other, "SELECT name FROM sqlite_schema WHERE type = 'table'")).toEqual([{ name: 'notes' }]);
    db.close();
  });
});

function openForeign(path: string) {
  const db = new Database(path);
  db.exec('CREATE TABLE notes (body TEXT)');
  return db;
}

describe('durability', () => {
  it('normal is synchronous=NORMAL; full is an fsync on every commit (synchronous=FULL)', () => {
    const path = join(dir, 'state.db');
    const normal = openDatabase(path);
    expect(normal.pragma('synchronous', { simple: true })).toBe(1);
    normal.close();
    const full = openDatabase(path, 'full');
    expect(full.pragma('synchronous', { simple: true })).toBe(2);
    full.close();
  });

  it('flow run --durability full runs and records; an unknown mode is a usage error', () => {
    write('w.yaml', 'steps:\n  - { id: a, type: transform, config: { value: 1 } }\n');
    expect(flow(['run', 'w.yaml', '--durability', 'full'], dir).code).toBe(0);
    const bad = flow(['run', 'w.yaml', '--durability', 'sometimes'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--durability');
  });
});
