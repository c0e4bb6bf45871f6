import { type ChildProcess, spawn } from 'node:child_process';
import { FLOW_BIN } from './cli.js';

// flow in a real pseudo-terminal (util-linux `script`), 100 columns by 30 rows, as a person at a terminal runs it.

export const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

/** The environment of a person at a terminal: no CI, no colour overrides. */
export function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...extra };
  for (const name of ['CI', 'GITHUB_ACTIONS', 'NO_COLOR', 'FORCE_COLOR', 'TERM_PROGRAM']) if (!(name in extra)) delete env[name];
  return env;
}

export interface PtyRun {
  child: ChildProcess;
  output: () => string;
  done: Promise<number | null>;
}

export function inTerminal(args: string[], cwd: string, env = terminalEnv(), nodeArgs: string[] = []): PtyRun {
  const command = `stty rows 30 cols 100; exec ${[process.execPath, ...nodeArgs, FLOW_BIN, ...args].map((a) => `'${a}'`).join(' ')}`;
  // -e: script exits with flow's code; -f: flushes as output comes; the typescript file is thrown away.
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, done };
}

export async function waitFor(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
