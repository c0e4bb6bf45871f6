import { existsSync } from 'node:fs';
import { EXIT } from '../../model/errors.js';
import { openSqliteHistory } from '../../state/sqlite-history.js';
import type { CommandIO } from '../io.js';
import { statePath } from '../state-path.js';

export interface CacheOptions {
  state?: string;
}

// `flow cache clear`: forget every cached step result, so the next runs compute them again.
export async function cacheClearCommand(options: CacheOptions, io: CommandIO): Promise<number> {
  const path = statePath(options.state, io);
  const removed = existsSync(path) ? clear(path) : 0;
  io.stdout(`removed ${removed} cache entr${removed === 1 ? 'y' : 'ies'}`);
  return EXIT.ok;
}

function clear(path: string): number {
  const history = openSqliteHistory(path);
  try {
    return history.clearCache();
  } finally {
    history.close();
  }
}
