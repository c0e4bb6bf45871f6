import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputOf, runYaml } from '../helpers/engine.js';

const HOSTILE = ['"; touch pwned; echo "', '$(touch pwned)', '`touch pwned`', "'; touch pwned; echo '", '$HOME && touch pwned'];

// Workflow values never become script text: whatever an input holds is printed, never executed.
describe('hostile inputs', () => {
  it.each(HOSTILE)('%s is printed verbatim by run, env and command forms, and nothing is created', async (value) => {
    const run = await runYaml(
      'inputs:\n  x: { type: string }\nsteps:\n' +
        '  - id: inline\n    type: shell\n    config:\n      run: echo "${{ inputs.x }}"\n' +
        '  - id: bare\n    type: shell\n    config:\n      run: echo ${{ inputs.x }}\n' +
        '  - id: via_env\n    type: shell\n    config:\n      run: printf \'%s\\n\' "$X"\n      env: { X: "${{ inputs.x }}" }\n' +
        '  - id: argv\n    type: shell\n    config:\n      command: [printf, "%s\\n", "${{ inputs.x }}"]\n',
      { inputs: { x: value } },
    );
    expect(run.outcome.status).toBe('succeeded');
    for (const id of ['inline', 'via_env', 'argv']) expect((outputOf(run, id) as { stdout: string }).stdout).toBe(`${value}\n`);
    expect(existsSync(join(run.dir, 'pwned'))).toBe(false);
    expect(readdirSync(run.dir).filter((f) => f.includes('pwned'))).toEqual([]);
  });
});
