import { resolve } from 'node:path';
import { UsageError } from '../model/errors.js';
import { isPostgresUrl, shownLocation } from '../state/state-location.js';
import type { CommandIO } from './io.js';

/** `scheme://` at the start: a URL, never a path (a directory named `postgres:` is never what was meant). */
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

// Where runs are kept: --state, else $FLOW_STATE, else .flow/state.db under the working directory. A path is made
// absolute; a postgres:// URL is kept as it is; any other URL is refused.
// A module of its own, so that the history commands load without the engine that `flow run` needs.
export function statePath(flag: string | undefined, io: CommandIO): string {
  const given = flag ?? process.env['FLOW_STATE'];
  if (given !== undefined && isPostgresUrl(given)) return given;
  const scheme = given === undefined ? undefined : URL_SCHEME.exec(given)?.[1];
  if (given !== undefined && scheme !== undefined)
    throw new UsageError(
      `${flag === undefined ? 'FLOW_STATE' : '--state'} ${shownLocation(given)}: flow cannot keep runs at a ${scheme}:// URL`,
      'give the path of a SQLite state file (default .flow/state.db) or a postgres:// URL',
    );
  return resolve(io.cwd, given ?? '.flow/state.db');
}
