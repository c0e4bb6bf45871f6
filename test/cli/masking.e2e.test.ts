import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretForms } from '../../src/engine/masking.js';
import { flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

describe('secrets in a step’s output', () => {
  it('are masked in every form a step may print them: terminal, outputs, logs and the state file’s bytes', () => {
    const dir = tempDir('flow-mask-');
    const token = 'tok-3xample/value+';
    writeFileSync(
      join(dir, 'w.yaml'),
      `secrets: [TOKEN]
steps:
  - id: leak
    type: shell
    config:
      run: |
        printf '%s' "$TOKEN" | base64
        echo "$TOKEN" | base64
        printf '{"t": %s}\\n' "$(printf '%s' "$TOKEN" | jq -Rs . 2>/dev/null || printf '"%s"' "$TOKEN")"
        printf '%s\\n' "$TOKEN"
outputs: { out: "\${{ steps.leak.output.stdout }}" }
`,
    );
    const r = flow(['run', 'w.yaml'], dir, { TOKEN: token });
    expect(r.code, r.stderr).toBe(0);
    const state = join(dir, '.flow', 'state.db');
    const channels = {
      stdout: r.stdout,
      stderr: r.stderr,
      db: readFileSync(state).toString('latin1'),
      wal: existsSync(`${state}-wal`) ? readFileSync(`${state}-wal`).toString('latin1') : '',
      logs: flow(['logs', /run (\w+) started/.exec(r.stderr)![1]!], dir).stdout,
    };
    // The step really printed something in each form: masked, it shows as ***.
    expect(r.stderr.match(/\| \*\*\*/g)?.length).toBeGreaterThanOrEqual(3);
    for (const form of secretForms(token)) {
      for (const [name, text] of Object.entries(channels)) expect(text.includes(form), `${form} in ${name}`).toBe(false);
    }
  });
});
