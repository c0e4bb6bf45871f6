import type { RunHistory } from './run-history.js';
import { openSqliteHistory } from './sqlite-history.js';
import { isPostgresUrl } from './state-location.js';

// The history the read commands ask (runs, show, logs, cache, serve): the file's, or PostgreSQL's, loaded only then.
export async function openRunHistory(location: string): Promise<RunHistory> {
  if (isPostgresUrl(location)) return (await import('./postgres/pg-history.js')).openPgHistory(location);
  return openSqliteHistory(location);
}
