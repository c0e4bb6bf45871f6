import { existsSync } from 'node:fs';

// Where runs are kept: a SQLite file (a path) or a PostgreSQL database (a postgres:// URL). open-store.ts and
// open-history.ts open either; this module only tells them apart, so that every command may load it.

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

export const isPostgresUrl = (location: string): boolean => POSTGRES_URL.test(location);

/** The location as it may be shown: a URL's password masked. */
export function shownLocation(location: string): string {
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/@]*@/i, '$1:***@');
}

/** Whether anything can be recorded there yet: a file that exists; a database is asked when it is opened. */
export const stateExists = (location: string): boolean => isPostgresUrl(location) || existsSync(location);
