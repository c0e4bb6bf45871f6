import { existsSync } from 'node:fs';
import type { RunHistory } from './run-history.js';
import type { RunStore } from './run-store.js';
import type { Durability } from './sqlite-open.js';

// Where runs are kept: a SQLite file (a path) or a PostgreSQL database (a postgres:// URL). Each store's code is
// loaded only when its kind is asked for, so a local run never loads `pg`, and a run on PostgreSQL never SQLite.

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

export const isPostgresUrl = (location: string): boolean => POSTGRES_URL.test(location);

/** The location as it may be shown: a URL's password masked. */
export function shownLocation(location: string): string {
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/@]*@/i, '$1:***@');
}

/** Whether anything can be recorded there yet: a file that exists; a database is asked when it is opened. */
export const stateExists = (location: string): boolean => isPostgresUrl(location) || existsSync(location);

export async function openRunStore(location: string, options: { durability?: Durability } = {}): Promise<RunStore> {
  if (isPostgresUrl(location)) return (await import('./postgres/pg-store.js')).openPgStore(location);
  return (await import('./sqlite-store.js')).openSqliteStore(location, options);
}

export async function openRunHistory(location: string): Promise<RunHistory> {
  if (isPostgresUrl(location)) return (await import('./postgres/pg-history.js')).openPgHistory(location);
  return (await import('./sqlite-history.js')).openSqliteHistory(location);
}
