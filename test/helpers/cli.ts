import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const FLOW_BIN = join(import.meta.dirname, '..', '..', 'bin', 'flow.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `flow` as a user would, in `cwd`. */
export function flow(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [FLOW_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
