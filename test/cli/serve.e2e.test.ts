import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLOW_BIN, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

// `flow serve` as a user starts it: the first line says where, with the token; Ctrl-C stops it.

function serve(args: string[], env: Record<string, string> = {}, cwd = tempDir('flow-serve-')) {
  const child = spawn(process.execPath, [FLOW_BIN, 'serve', '--port', '0', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', () => {
      if (stderr.includes('\n')) resolve(stderr.split('\n')[0]!);
    });
    child.on('close', () => reject(new Error(`flow serve exited: ${stderr}`)));
  });
  return { child, exited, firstLine, stderr: () => stderr };
}

describe('flow serve', () => {
  it('prints its URL with a fresh token first, answers with it, and stops on SIGINT with exit 0', async () => {
    const s = serve([]);
    const line = await s.firstLine;
    const match = /^flow: serving (http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]{32})$/.exec(line);
    expect(match, line).not.toBeNull();
    const [, base, token] = match!;
    const ok = await fetch(`${base}/api/v1/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ runs: [], next_cursor: null });
    s.child.kill('SIGINT');
    expect(await s.exited).toBe(0);
    await expect(fetch(`${base}/api/v1/runs`)).rejects.toThrow();
  });

  it('takes its token from FLOW_SERVE_TOKEN; off loopback it refuses to start without one', async () => {
    const s = serve([], { FLOW_SERVE_TOKEN: 'chosen-token-for-this-test' });
    expect(await s.firstLine).toMatch(/\?token=chosen-token-for-this-test$/);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const open = flow(['serve', '--host', '0.0.0.0', '--port', '0'], tempDir('flow-serve-'), { FLOW_SERVE_TOKEN: '' });
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('--host 0.0.0.0 is reachable from other machines: set FLOW_SERVE_TOKEN');
  });

  it('refuses a bad flag with one line naming it, exit 2, before it listens', async () => {
    const dir = tempDir('flow-serve-');
    const cases: [string[], string][] = [
      [['--port', 'abc'], "--port must be a whole number of at least 0, got 'abc'"],
      [['--port', '99999'], '--port 99999 is not a port'],
      [['--root', 'no-such-dir'], '--root no-such-dir: no such directory'],
      // mkdir -p under /proc never returns: the state file's directory is made one level at a time
      [['--state', '/proc/no-such/state.db'], "cannot use the state file '/proc/no-such/state.db'"],
    ];
    for (const [args, message] of cases) {
      const r = flow(['serve', ...args], dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const s = serve([], {}, dir);
    const port = /:(\d+)\//.exec(await s.firstLine)![1]!;
    const taken = flow(['serve', '--port', port], dir);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(`port ${port} is in use`);
    s.child.kill('SIGTERM');
    await s.exited;
  });

  it('lists and starts the workflow files under --root, not the working directory', async () => {
    const dir = tempDir('flow-serve-');
    mkdirSync(join(dir, 'flows'));
    writeFileSync(join(dir, 'flows', 'hello.yaml'), 'name: hello\nsteps:\n  - { id: hi, type: shell, config: { run: "echo hi" } }\n');
    writeFileSync(join(dir, 'outside.yaml'), 'name: outside\nsteps:\n  - { id: hi, type: shell, config: { run: "echo hi" } }\n');
    const s = serve(['--root', 'flows'], {}, dir);
    const [, base, token] = /(http:\S+)\/\?token=(\S+)/.exec(await s.firstLine)!;
    const listed = await fetch(`${base}/api/v1/workflows`, { headers: { authorization: `Bearer ${token}` } });
    const { workflows } = (await listed.json()) as { workflows: { path: string }[] };
    expect(workflows.map((w) => w.path)).toEqual(['hello.yaml']);
    s.child.kill('SIGTERM');
    await s.exited;
  });

  it('drives the runs it starts; when it is killed, flow resume takes them over', async () => {
    const dir = tempDir('flow-serve-');
    writeFileSync(
      join(dir, 'w.yaml'),
      'name: w\nsteps:\n  - { id: hold, type: shell, config: { run: "echo holding; while [ ! -f open ]; do sleep 0.05; done" } }\n  - { id: after, type: shell, config: { run: "echo after" } }\n',
    );
    const s = serve([], {}, dir);
    const [, base, token] = /(http:\S+)\/\?token=(\S+)/.exec(await s.firstLine)!;
    const started = await fetch(`${base}/api/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: 'w.yaml' }),
    });
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as { id: string };
    const shown = JSON.parse(flow(['show', id, '--json'], dir).stdout) as { status: string };
    expect(shown.status).toBe('running');
    s.child.kill('SIGKILL');
    await s.exited;
    writeFileSync(join(dir, 'open'), '');
    const resumed = flow(['resume', id], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(flow(['logs', id, 'after'], dir).stdout).toBe('[after] | after\n');
  });
});
