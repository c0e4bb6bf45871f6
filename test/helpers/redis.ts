import { isExecutable, stopOnce, watchdog } from './server-process.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { closedPort } from './http-server.js';

// A throwaway Redis server of a test's own, on a free port of 127.0.0.1, its files in a fresh temp directory.
// Nothing written is dropped: every write goes to the append-only file, and a full memory refuses writes instead
// of evicting keys. No RDB snapshots (--save ''): the append-only file is the one copy.

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The server's --dir (its append-only files and its log, redis.log); stop() removes it. */
  dir: string;
  /** Stops the server (SIGTERM: the append-only file flushed), then removes `dir`. */
  stop(): Promise<void>;
}

export const REDIS_MISSING = "redis-server is missing: install Debian's redis-server package (.ci/run does)";

/** redis-server's path on PATH, or undefined. */
export function redisBinary(): string | undefined {
  return (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'redis-server'))
    .find(isExecutable);
}

export async function startRedis(): Promise<RedisServer> {
  const binary = redisBinary();
  if (!binary) throw new Error(REDIS_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'flow-redis-'));
  try {
    const { child, port } = await listen(binary, dir);
    const stop = stopOnce(child, 'SIGTERM', dir, watchdog(child, 'TERM', dir));
    return { url: `redis://127.0.0.1:${port}`, port, dir, stop };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Starts the server and waits until it answers; a port taken meanwhile by someone else means another try. */
async function listen(binary: string, dir: string): Promise<{ child: ChildProcess; port: number }> {
  const logPath = join(dir, 'redis.log');
  for (let attempt = 1; ; attempt++) {
    const port = await closedPort();
    const log = openSync(logPath, 'w');
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir];
    const durable = ['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''];
    // --logfile '' (the default, said for clarity) logs to stdout: the log file opened here.
    const child = spawn(binary, [...args, ...durable, '--logfile', ''], { cwd: dir, stdio: ['ignore', log, log] });
    closeSync(log);
    if (await ready(child, port, logPath)) return { child, port };
    const output = readFileSync(logPath, 'utf8');
    if (attempt < 3 && output.includes('Address already in use')) continue;
    throw new Error(`redis-server did not start on 127.0.0.1:${port}:\n${output}`);
  }
}

/**
 * True once the server answers PING. Its log must say it listens first: a PONG alone could come from another
 * test's server that took the port meanwhile. False when the server exits first.
 */
async function ready(child: ChildProcess, port: number, logPath: string): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (readFileSync(logPath, 'utf8').includes('Ready to accept connections') && (await answersPing(port))) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING within 30s (log: ${logPath})`);
}

/** A raw PING in Redis' inline command form: no client library needed for one +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data: string) => {
      reply += data;
      if (reply.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(reply.startsWith('+PONG\r\n')));
  });
}
