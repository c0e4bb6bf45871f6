import { existsSync } from 'node:fs';
import type { RunStore } from './run-store.js';
import type { Durability } from './sqlite-open.js';
import { openSqliteStore } from './sqlite-store.js';
import { isPostgresUrl } from './state-location.js';

// The store a run writes to. The file, flow's default, loads with the command (an import() of its own would cost a
// local run a few ms); PostgreSQL's code and `pg` only when such a URL is given.
export async function openRunStore(location: string, options: { durability?: Durability } = {}): Promise<RunStore> {
  if (isPostgresUrl(location)) return (await import('./postgres/pg-store.js')).openPgStore(location);
  return openSqliteStore(location, options);
}

/**
 * The state file at `location` when one exists there, of this flow's schema, opened before its run's workflow is
 * validated, to look for the model an earlier run kept. It creates and migrates nothing (a file of an older schema
 * cannot hold a model of this build), and connects to no database server; undefined when it cannot be opened so
 * (openRunStore opens it, or says why, once the workflow is known to be valid).
 */
export async function openExistingStateFile(location: string, options: { durability?: Durability } = {}): Promise<RunStore | undefined> {
  if (isPostgresUrl(location) || !existsSync(location)) return undefined;
  try {
    return openSqliteStore(location, { ...options, current: true });
  } catch {
    return undefined;
  }
}
