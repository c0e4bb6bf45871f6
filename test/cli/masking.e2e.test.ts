import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { secretForms } from '../../src/engine/masking.js';
import { flow, flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { runIdOf } from '../helpers/state.js';
import { inTerminal, terminalEnv } from '../helpers/terminal.js';

// A step prints a secret in every form it could: as is, a line of it, base64 (with and without a newline),
// URL-encoded, inside a JSON string. No channel flow writes may hold any of those forms.

const TOKEN = 'tok-3xample/value+';
const MULTILINE = 'first-line-of-key\nsecond-line-of-key';

const WORKFLOW = `name: leaky
secrets: [TOKEN, KEY]
steps:
  - id: leak
    type: shell
    config:
      run: |
        printf '%s' "$TOKEN" | base64
        echo "$TOKEN" | base64
        printf '{"t": %s}\\n' "$(printf '%s' "$TOKEN" | jq -Rs . 2>/dev/null || printf '"%s"' "$TOKEN")"
        printf '%s\\n' "$TOKEN"
        node -e 'console.log(encodeURIComponent(process.env.TOKEN))'
        printf '%s\\n' "$KEY" | tail -n 1
  - id: fail
    type: shell
    config: { run: 'echo "bad $TOKEN" >&2; exit 1' }
outputs: { out: "\${{ steps.leak.output.stdout }}" }
`;

const forms = [...secretForms(TOKEN), ...secretForms(MULTILINE)];

function expectNoSecret(channels: Record<string, string>): void {
  for (const form of forms)
    for (const [name, text] of Object.entries(channels)) expect(text.includes(form), `'${form}' found in ${name}`).toBe(false);
}

function stateBytes(dir: string): Record<string, string> {
  const state = join(dir, '.flow', 'state.db');
  return {
    'the state file': readFileSync(state).toString('latin1'),
    'its WAL': existsSync(`${state}-wal`) ? readFileSync(`${state}-wal`).toString('latin1') : '',
  };
}

describe('secrets in a step’s output', () => {
  it('are in no channel: plain log, --json, --junit, flow logs, flow show, the state file and its WAL', async () => {
    const dir = tempDir('flow-mask-');
    writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
    const r = await flowAsync(['run', 'w.yaml', '--json', '--junit', 'report.xml'], dir, { TOKEN, KEY: MULTILINE });
    expect(r.code, r.stderr).toBe(1);
    const id = runIdOf(r.stderr);
    // The step really printed each form: masked, each shows as ***.
    expect(r.stderr.match(/\| \*\*\*/g)?.length).toBeGreaterThanOrEqual(5);
    expectNoSecret({
      'the plain log': r.stderr,
      'the NDJSON events': r.stdout,
      'the JUnit report': readFileSync(join(dir, 'report.xml'), 'utf8'),
      'flow logs': flow(['logs', id], dir).stdout,
      'flow show --json': flow(['show', id, '--json'], dir).stdout,
      ...stateBytes(dir),
    });
  });

  it('are in no channel of a GitHub Actions run: its log (but the add-mask lines the runner eats), the step summary', async () => {
    const dir = tempDir('flow-mask-');
    writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
    const summary = join(dir, 'summary.md');
    const env = { TOKEN, KEY: MULTILINE, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: dir };
    const r = await flowAsync(['run', 'w.yaml'], dir, env);
    expect(r.code, r.stderr).toBe(1);
    const log = r.stderr.split('\n');
    const masks = log.filter((l) => l.startsWith('::add-mask::'));
    // Registered with the runner before any other line, in every form, so the runner hides them too.
    expect(log.slice(0, masks.length)).toEqual(masks);
    for (const form of secretForms(TOKEN)) expect(masks).toContain(`::add-mask::${form.replace(/%/g, '%25')}`);
    expect(r.stderr).toContain('::error ');
    expectNoSecret({
      'the GitHub log': log.filter((l) => !l.startsWith('::add-mask::')).join('\n'),
      stdout: r.stdout,
      'the step summary': readFileSync(summary, 'utf8'),
    });
  });

  it('are in no channel of a terminal run: the live view', async () => {
    const dir = tempDir('flow-mask-');
    writeFileSync(join(dir, 'w.yaml'), WORKFLOW);
    const run = inTerminal(['run', 'w.yaml', '--verbose'], dir, terminalEnv({ TOKEN, KEY: MULTILINE }));
    expect(await run.done).toBe(1);
    expect(stripVTControlCharacters(run.output())).toContain('leak | ***');
    expectNoSecret({ 'the terminal': run.output(), ...stateBytes(dir) });
  });
});
