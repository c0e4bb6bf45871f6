import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FLOW_BIN, flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { startOpenAIServer } from '../helpers/openai-server.js';
import { inTerminal, SPINNER, terminalEnv, waitFor } from '../helpers/terminal.js';

// flow in a real pseudo-terminal (util-linux `script`), as a person at a terminal runs it, and through pipes.

const HELLO = join(import.meta.dirname, '..', '..', 'workflows', 'hello.yaml');

const FAILING = `name: demo
steps:
  - id: prep
    type: shell
    config: { run: "sleep 0.4; echo ready" }
  - id: checks
    parallel:
      steps:
        - id: lint
          type: shell
          config: { run: "sleep 0.5; echo lint ok" }
        - id: unit
          type: shell
          config: { run: "sleep 0.3; echo 'FAIL sum.test'; echo 'expected 3 got 4' >&2; exit 1" }
`;

describe('flow run in a terminal', () => {
  it('shows spinners, colour and the failure, hides the cursor while drawing, and exits with the run’s code', async () => {
    const dir = tempDir('flow-pty-');
    writeFileSync(join(dir, 'w.yaml'), FAILING);
    const run = inTerminal(['run', 'w.yaml'], dir);
    expect(await run.done).toBe(1);
    const raw = run.output();
    const text = stripVTControlCharacters(raw);
    expect(text).toMatch(new RegExp(`${SPINNER.source} prep`));
    expect(raw).toMatch(/\x1b\[3[12]m/); // red and green marks
    expect(text).toContain('✔ prep');
    expect(text).toMatch(/✖ unit failed .*exit:1/);
    expect(text).toContain('│ expected 3 got 4');
    expect(text).toMatch(/to continue it: flow resume \w+/);
    expect(raw).toContain('\x1b[?25l');
    expect(raw.lastIndexOf('\x1b[?25h')).toBeGreaterThan(raw.lastIndexOf('\x1b[?25l'));
  });

  it('on Ctrl-C stops the run, shows the cursor again, ends with the summary and exits 130', async () => {
    const dir = tempDir('flow-pty-');
    writeFileSync(join(dir, 'w.yaml'), 'steps:\n  - id: wait\n    type: shell\n    config: { run: "sleep 30" }\n');
    const run = inTerminal(['run', 'w.yaml'], dir);
    await waitFor(() => new RegExp(`${SPINNER.source} wait`).test(stripVTControlCharacters(run.output())), 'the spinner');
    run.child.stdin!.write('\x03'); // the terminal's interrupt character: the line discipline sends SIGINT
    expect(await run.done).toBe(130);
    const raw = run.output();
    const text = stripVTControlCharacters(raw);
    expect(text).toMatch(/✖ wait interrupted/);
    expect(text).toMatch(/run \w+ interrupted/);
    expect(text).toMatch(/to continue it: flow resume \w+/);
    expect(raw.lastIndexOf('\x1b[?25h')).toBeGreaterThan(raw.lastIndexOf('\x1b[?25l'));
  });

  it('shows workflows/hello.yaml as the live view with a summary; with CI=true as plain time-stamped lines, no escape codes', async () => {
    const live = inTerminal(['run', HELLO], tempDir('flow-pty-'));
    expect(await live.done).toBe(0);
    const text = stripVTControlCharacters(live.output());
    expect(text).toMatch(/^✔ greet \d+ms/m);
    expect(text).toMatch(/^ {2}✔ letters 4\/4 ✔4 \d+ms/m);
    expect(text).toMatch(/^✔ flow: run \w+ succeeded in \d+ms\s+steps: 5 succeeded/m);
    const ci = inTerminal(['run', HELLO], tempDir('flow-pty-'), terminalEnv({ CI: 'true' }));
    expect(await ci.done).toBe(0);
    expect(ci.output()).not.toContain('\x1b');
    expect(ci.output()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[greet\] \| hello, world/m);
    expect(ci.output()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} flow: run \w+ succeeded in/m);
  });
});

describe('flow run --verbose in a terminal', () => {
  it('shows a streamed answer under its step as the words come, then as its line of output', async () => {
    const server = await startOpenAIServer([{ content: 'alpha beta gamma delta epsilon zeta', chunkDelayMs: 150 }]);
    try {
      const dir = tempDir('flow-pty-');
      writeFileSync(join(dir, 'w.yaml'), 'name: s\nsteps:\n  - { id: ask, type: ai, config: { model: m, prompt: p, stream: true } }\n');
      const run = inTerminal(['run', 'w.yaml', '--verbose'], dir, terminalEnv({ OPENAI_BASE_URL: server.url }));
      expect(await run.done).toBe(0);
      const text = stripVTControlCharacters(run.output());
      // Drawn in the live region while the line is unfinished: some words, not yet all.
      expect(text).toMatch(/│ alpha beta(?! gamma delta epsilon zeta)/);
      expect(text).toMatch(/^ask \| alpha beta gamma delta epsilon zeta$/m);
      const quiet = inTerminal(['run', 'w.yaml'], dir, terminalEnv({ OPENAI_BASE_URL: server.url }));
      expect(await quiet.done).toBe(0);
      expect(stripVTControlCharacters(quiet.output())).not.toContain('│');
    } finally {
      await server.close();
    }
  });
});

describe('flow run through pipes', () => {
  it('writes no escape codes at all', async () => {
    const dir = tempDir('flow-pipe-');
    writeFileSync(join(dir, 'w.yaml'), FAILING);
    const r = await flowAsync(['run', 'w.yaml'], dir, { NO_COLOR: '', FORCE_COLOR: '', CI: '', TERM: 'xterm-256color' });
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).not.toContain('\x1b');
    expect(r.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[prep\] \| ready$/m);
  });

  it('with FORCE_COLOR colours its lines and the steps’ own, and with NO_COLOR tells the steps so', async () => {
    const dir = tempDir('flow-pipe-');
    writeFileSync(
      join(dir, 'w.yaml'),
      'steps:\n  - id: env\n    type: shell\n    config: { run: \'echo "force=${FORCE_COLOR-unset} no=${NO_COLOR-unset}"\' }\n',
    );
    const forced = await flowAsync(['run', 'w.yaml'], dir, { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('\x1b[32msucceeded\x1b[39m');
    expect(forced.stderr).toContain('force=1 no=unset');
    const plain = await flowAsync(['run', 'w.yaml'], dir, { NO_COLOR: '1', FORCE_COLOR: '' });
    expect(plain.stderr).not.toContain('\x1b');
    expect(plain.stderr).toContain('force=unset no=1');
  });

  it('goes on when the reader of its output goes away (`--json | head -1`), and says nothing of it', () => {
    const dir = tempDir('flow-pipe-');
    writeFileSync(
      join(dir, 'w.yaml'),
      'steps:\n  - { id: a, type: shell, config: { run: "seq 1 3" } }\n  - { id: b, type: shell, config: { run: "sleep 0.2" } }\n',
    );
    const r = spawnSync('bash', ['-c', `set -o pipefail; '${process.execPath}' '${FLOW_BIN}' run w.yaml --json | head -1`], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'run-started' });
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.stderr).toMatch(/run \w+ succeeded/);
  });
});
