import { EXIT } from '../../model/errors.js';
import type { CommandIO } from '../io.js';
import { statePath } from '../state-path.js';
import { openRunHistory } from '../../state/open-history.js';
import { stateExists } from '../../state/state-location.js';

export interface CacheOptions {
  state?: string;
}

// `flow cache clear`: forget every cached step result, so the next runs compute them again.
export async function cacheClearCommand(options: CacheOptions, io: CommandIO): Promise<number> {
  const path = statePath(options.state, io);
  const removed = stateExists(path) ? await clear(path) : 0;
  io.stdout(`removed ${removed} cache entr${removed === 1 ? 'y' : 'ies'}`);
  return EXIT.ok;
}

async function clear(path: string): Promise<number> {
  const history = await openRunHistory(path);
  try {
    return history.clearCache();
  } finally {
    history.close();
  }
}
