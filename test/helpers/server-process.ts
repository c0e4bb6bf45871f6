import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import type { Socket } from 'node:net';

// What the throwaway servers of the tests (postgres.ts, redis.ts) share: cleaning up however the test process ends,
// and a stop that happens once.

/**
 * A shell that cleans up after this process however it ends (vitest ends its workers with SIGTERM, so no 'exit'
 * handler runs): the end of its stdin closes with this process, and it then stops the server with `signal`, waits
 * up to 10s for it to go and removes `dir`. The function it returns dismisses it, for a stop() that does all that.
 */
export function watchdog(server: ChildProcess | undefined, signal: string, dir: string): () => void {
  const script = [
    'read -r _',
    'if [ -n "$1" ]; then kill -s "$2" "$1"; i=0; while kill -0 "$1" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; fi',
    'rm -rf "$3"',
  ].join('\n');
  // Its own process group: a Ctrl-C in the terminal does not reach it, only the end of this process does.
  const guard = spawn('/bin/sh', ['-c', script, 'watchdog', String(server?.pid ?? ''), signal, dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  guard.unref();
  (guard.stdin as Socket).unref();
  return () => guard.kill('SIGKILL');
}

/** Stops the server with `signal` (once, however often it is called), waits for it to exit and removes `dir`. */
export function stopOnce(child: ChildProcess, signal: NodeJS.Signals, dir: string, release: () => void): () => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      release();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
