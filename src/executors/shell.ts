import { orExpression, ref, strictObject } from '../language/schema/json-schema.js';
import type { ExecutorDefinition } from './executor.js';

export const shellExecutor: ExecutorDefinition = {
  type: 'shell',
  aliases: ['process'],
  summary: 'Runs `run` (a script) or `command` (an argv list); workflow values reach it only through `env`.',
  configRequired: true,
  configSchema: strictObject(
    {
      run: { type: 'string', description: 'Script text, run by `shell`. Read workflow values from env vars, never ${{ }} here.' },
      command: orExpression({ type: 'array', minItems: 1, items: { type: 'string' }, description: 'Program and arguments, run without a shell.' }),
      cwd: { type: 'string' },
      env: ref('env'),
      shell: { type: 'string', description: 'Shell for `run`: bash, sh, or a path. Default: bash when present, else sh.' },
    },
    { oneOf: [{ required: ['run'] }, { required: ['command'] }] },
  ),
};
