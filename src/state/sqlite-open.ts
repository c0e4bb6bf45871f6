import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteModuleError, StateFileError } from '../model/errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { makeDirectory } from '../model/make-directory.js';

/** `normal`: a killed process loses nothing, a power loss may lose the last commits. `full`: fsync on every commit. */
export type Durability = 'normal' | 'full';

// better-sqlite3's JavaScript is bundled into flow's own chunk, where its `bindings` package cannot look for the
// compiled part (it needs CommonJS's __filename): that is loaded here, from where npm builds it. This also spares a
// dozen file probes and as many modules on every command that opens the state file.
const BUILDS = ['Release', 'Debug'];
let addon: object | undefined;
function sqliteOptions(): Database.Options {
  addon ??= loadSqliteAddon(createRequire(import.meta.url));
  // better-sqlite3 takes the loaded addon as well as its path (lib/database.js); its types name only the path.
  return { nativeBinding: addon as unknown as string };
}

/**
 * better-sqlite3's compiled part as `load` (a require of the directory to look from) finds it. Not built, or built
 * for another Node (its ABI, after a change of Node), it is one SqliteModuleError that says to rebuild it.
 */
export function loadSqliteAddon(load: NodeJS.Require): object {
  for (const build of BUILDS) {
    let file: string;
    try {
      file = load.resolve(`better-sqlite3/build/${build}/better_sqlite3.node`);
    } catch {
      continue; // not this build
    }
    try {
      return load(file) as object;
    } catch (err) {
      throw new SqliteModuleError(`${file} does not load (${loadFailure(err, file)})`);
    }
  }
  throw new SqliteModuleError('better-sqlite3 is not built (no build/Release/better_sqlite3.node)');
}

// Node's dlopen message on one line, without the file it names again or its advice to rebuild (the hint says it):
// "was compiled against a different Node.js version using NODE_MODULE_VERSION 147. This version of Node.js requires …".
function loadFailure(err: unknown, file: string): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  return message
    .replace(`The module '${file}' `, '')
    .replace(/ Please try re-compiling.*$/, '')
    .trim();
}

/** How long a process waits for another's write lock before it gives up. */
const BUSY_TIMEOUT_MS = 15_000;

// Opens (creating and migrating under an exclusive lock) the state file. Several processes may do so at once.
export function openDatabase(path: string, durability: Durability = 'normal', options: { current?: boolean } = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (options.current) {
      // Only an existing file of this flow's schema, as it is: nothing is created, switched or migrated before that.
      db = new Database(path, { ...sqliteOptions(), timeout: BUSY_TIMEOUT_MS, fileMustExist: true });
      const version = Number(db.pragma('user_version', { simple: true }));
      if (version !== SCHEMA_VERSION) throw new StateFileError(path, `its schema is ${version}, not this flow's ${SCHEMA_VERSION}`);
    } else {
      makeDirectory(dirname(path), 0o700);
      // Create the file ourselves so it is 0600 from its first byte; SQLite gives -wal and -shm the same mode.
      // An existing file keeps the mode its owner gave it.
      if (!existsSync(path)) {
        closeSync(openSync(path, 'a', 0o600));
        chmodSync(path, 0o600);
      }
      db = new Database(path, { ...sqliteOptions(), timeout: BUSY_TIMEOUT_MS });
    }
    const open = db;
    // Switching to WAL takes an exclusive lock, and SQLite may answer BUSY without waiting while another
    // process opens the same new file: wait and ask again.
    whileBusy(() => open.pragma('journal_mode = WAL'));
    open.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    open.pragma('foreign_keys = ON');
    migrate(open);
    return open;
  } catch (err) {
    db?.close();
    throw stateFileError(path, err);
  }
}

/** The schema version of a state file as it is: 0 when it does not exist yet. */
export function fileSchemaVersion(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { ...sqliteOptions(), readonly: true, fileMustExist: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } catch (err) {
    throw stateFileError(path, err);
  } finally {
    db.close();
  }
}

/** Runs fn; a fault SQLite reports (a full disk, a read-only or damaged file) becomes one error naming the file. */
export function guardStateFile<T>(db: Database.Database, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('SQLITE_')) throw stateFileError(db.name, err);
    throw err;
  }
}

/** One clear error naming the file, whatever SQLite or the file system said. */
export function stateFileError(path: string, err: unknown): StateFileError | SqliteModuleError {
  if (err instanceof StateFileError || err instanceof SqliteModuleError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  const reason =
    code === 'SQLITE_FULL' || code === 'ENOSPC'
      ? 'the disk is full'
      : code === 'SQLITE_READONLY' || code === 'EROFS' || code === 'EACCES' || code === 'SQLITE_CANTOPEN'
        ? `it cannot be written here (${message})`
        : code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
          ? `it is not a flow state file, or it is damaged (${message})`
          : message;
  return new StateFileError(path, reason);
}

// Creation and migration run in one IMMEDIATE transaction, and the version is read again inside it: of several
// processes opening a new file at once, the first migrates and the others find it done.
function migrate(db: Database.Database): void {
  const version = () => Number(db.pragma('user_version', { simple: true }));
  if (version() === SCHEMA_VERSION) return;
  // Another program's database is not taken over: flow creates its tables only in an empty file.
  if (version() === 0 && db.prepare(`SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' LIMIT 1`).get() !== undefined) {
    throw new StateFileError(db.name, "it is a SQLite database of another program (it has tables, but not flow's)");
  }
  whileBusy(() =>
    db
      .transaction(() => {
        const from = version();
        if (from > SCHEMA_VERSION) {
          throw new StateFileError(db.name, `it was written by a newer flow (schema ${from}; this flow knows ${SCHEMA_VERSION})`);
        }
        for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate(),
  );
}

function whileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}
