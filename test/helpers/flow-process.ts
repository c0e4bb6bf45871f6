import { type ChildProcess, spawn } from 'node:child_process';
import { FLOW_BIN } from './cli.js';

// A `flow` process that keeps running while the test acts on it (a worker, a driver to kill): its output as it comes.

export interface FlowProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /** Its exit code (null when killed by a signal), once it has exited. */
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

export function startFlow(args: string[], cwd: string, env: Record<string, string> = {}): FlowProcess {
  const child = spawn(process.execPath, [FLOW_BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

/** SIGKILLs every flow process a test left running (a failed assertion mid-test): none outlives the test file. */
export function killLeftovers(): void {
  for (const child of running) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
}

/** Stops a worker as its service manager would (SIGTERM: its jobs finish first) and waits for it. */
export async function stopGracefully(p: FlowProcess): Promise<number | null> {
  p.child.kill('SIGTERM');
  return p.exited;
}
