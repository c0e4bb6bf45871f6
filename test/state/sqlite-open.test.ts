import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteModuleError } from '../../src/model/errors.js';
import { loadSqliteAddon } from '../../src/state/sqlite-open.js';
import { tempDir } from '../helpers/engine.js';

// A checkout whose better-sqlite3 is as given: the package and, when `binary` is given, its compiled part.
function checkout(binary?: string): NodeJS.Require {
  const dir = tempDir('flow-sqlite-module-');
  const pkg = join(dir, 'node_modules', 'better-sqlite3');
  mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{ "name": "better-sqlite3", "version": "12.0.0" }\n');
  if (binary !== undefined) writeFileSync(join(pkg, 'build', 'Release', 'better_sqlite3.node'), binary);
  return createRequire(join(dir, 'flow.mjs'));
}

function thrown(fn: () => unknown): SqliteModuleError {
  try {
    fn();
  } catch (err) {
    return err as SqliteModuleError;
  }
  throw new Error('nothing was thrown');
}

describe("the state file's SQLite module", () => {
  it('loads from the checkout where npm built it', () => {
    const addon = loadSqliteAddon(createRequire(import.meta.url));
    expect(typeof (addon as { Database?: unknown }).Database).toBe('function');
  });

  it('not built, is one error that says to rebuild it, not to pass another state file', () => {
    const err = thrown(() => loadSqliteAddon(checkout()));
    expect(err).toBeInstanceOf(SqliteModuleError);
    expect(err.message).toMatch(/better-sqlite3 is not built/);
    expect(err.hint).toMatch(/npm rebuild better-sqlite3/);
  });

  it('built but unloadable (another Node’s ABI, a damaged file), names the file and says to rebuild it', () => {
    const err = thrown(() => loadSqliteAddon(checkout('not a shared object\n')));
    expect(err).toBeInstanceOf(SqliteModuleError);
    expect(err.message).toMatch(/build\/Release\/better_sqlite3\.node does not load \(/);
    expect(err.hint).toMatch(/npm rebuild better-sqlite3/);
  });
});
