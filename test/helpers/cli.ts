import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const FLOW_BIN = join(import.meta.dirname, '..', '..', 'bin', 'flow.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Plain, uncoloured output wherever the tests run (also inside GitHub Actions); a test that wants more says so. */
const QUIET = { NO_COLOR: '1', GITHUB_ACTIONS: '' };

/** Runs the built `flow` as a user would, in `cwd`. */
export function flow(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [FLOW_BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...QUIET, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like `flow`, without blocking this process: for tests whose servers run in it. */
export function flowAsync(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FLOW_BIN, ...args], {
      cwd,
      env: { ...process.env, ...QUIET, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
