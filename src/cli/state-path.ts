import { resolve } from 'node:path';
import type { CommandIO } from './io.js';

// Where the state file is: --state, else $FLOW_STATE, else .flow/state.db under the working directory.
// A module of its own, so that the history commands load without the engine that `flow run` needs.
export function statePath(flag: string | undefined, io: CommandIO): string {
  return resolve(io.cwd, flag ?? process.env['FLOW_STATE'] ?? '.flow/state.db');
}
