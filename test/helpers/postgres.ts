import { isExecutable, stopOnce, watchdog } from './server-process.js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { closedPort } from './http-server.js';

// A throwaway PostgreSQL server of a test's own: a cluster in a fresh temp directory, on a free port of 127.0.0.1,
// user `flow` without a password (trust) and database `flow`. Durability is off (fsync and the like): the data
// dies with the test anyway, and waiting for the disk is most of the time a write takes on a busy CI machine.

export interface PostgresServer {
  /** postgres://flow@127.0.0.1:PORT/flow */
  url: string;
  port: number;
  /** The cluster's data directory, inside `dir`. */
  dataDir: string;
  /** The temp directory holding the cluster, its unix socket and its log (postgres.log); stop() removes it. */
  dir: string;
  /** A fast shutdown (open transactions rolled back, connections closed), then `dir` removed. */
  stop(): Promise<void>;
}

export const POSTGRES_MISSING =
  "PostgreSQL server binaries (initdb, postgres) are missing: install Debian's postgresql package (.ci/run does)";

/** The directory holding initdb and postgres: the newest of Debian's /usr/lib/postgresql/N/bin, else PATH's initdb's. */
export function postgresBinaries(): string | undefined {
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian) ? readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v)) : [];
  const candidates = versions.sort((a, b) => Number(b) - Number(a)).map((v) => join(debian, v, 'bin'));
  const initdb = onPath('initdb');
  // PATH may hold a symlink to initdb alone (/usr/local/bin here): postgres is next to the file it points to.
  if (initdb) candidates.push(dirname(realpathSync(initdb)));
  return candidates.find((dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres')));
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinaries();
  if (!bin) throw new Error(POSTGRES_MISSING);
  const user = serverUser();
  const cluster = await template(bin, user);
  const dir = directoryFor(user);
  const dataDir = join(dir, 'data');
  try {
    await run('cp', ['-a', cluster, dataDir], { cwd: dir, ...user });
    const { child, port } = await listen(bin, dir, dataDir, user);
    // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
    const stop = stopOnce(child, 'SIGINT', dir, watchdog(child, 'INT', dir));
    return { url: `postgres://flow@127.0.0.1:${port}/flow`, port, dataDir, dir, stop };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// No locale (C collation, UTF-8): the same sort order and messages on every machine.
const serverEnv = { ...process.env, LC_ALL: 'C' };

let templates: Promise<string> | undefined;

/**
 * The data directory of a cluster made once per test process, which every server starts from a copy of: initdb
 * takes 0.8s on an idle machine and up to 2s on a busy one, a copy a quarter to a half of that. Removed when this
 * process ends.
 */
function template(bin: string, user: Account | undefined): Promise<string> {
  templates ??= (async () => {
    const dir = directoryFor(user, 'flow-postgres-template-');
    watchdog(undefined, 'INT', dir);
    const dataDir = join(dir, 'data');
    const initdb = ['-D', dataDir, '--username=flow', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'];
    await run(join(bin, 'initdb'), initdb, { cwd: dir, ...user });
    // Single-user mode creates the database without a server listening or a client.
    const created = await run(join(bin, 'postgres'), ['--single', '-D', dataDir, '-F', 'template1'], {
      cwd: dir,
      input: 'CREATE DATABASE flow;\n',
      ...user,
    });
    if (/\bERROR:/.test(created)) throw new Error(`postgres --single: CREATE DATABASE flow failed:\n${created}`);
    return dataDir;
  })();
  // A failure is thrown to this caller; the next one tries again.
  templates.catch(() => {
    templates = undefined;
  });
  return templates;
}

interface Account {
  uid: number;
  gid: number;
}

let account: { user: Account | undefined } | undefined;

/**
 * Who the server runs as when this process is root (initdb and postgres refuse root: "cannot be run as root"):
 * Debian's `postgres` user when it exists, else `nobody`. Undefined for anyone else, whose server runs as themselves.
 */
function serverUser(): Account | undefined {
  account ??= { user: process.getuid?.() === 0 ? unprivileged() : undefined };
  return account.user;
}

function unprivileged(): Account {
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as');
}

/** A fresh temp directory owned by the server's user, under TMPDIR when that user can reach it. */
function directoryFor(user: Account | undefined, prefix = 'flow-postgres-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!user) return dir;
  chownSync(dir, user.uid, user.gid);
  if (writable(dir, user)) return dir;
  rmSync(dir, { recursive: true, force: true });
  // The test run's TMPDIR (test/global-setup.ts) is root's and mode 0700: another user cannot enter it, so the
  // cluster lives in /tmp itself (stop(), or the watchdog, still removes it).
  const outside = mkdtempSync(join('/tmp', prefix));
  chownSync(outside, user.uid, user.gid);
  if (writable(outside, user)) return outside;
  rmSync(outside, { recursive: true, force: true });
  throw new Error(`the PostgreSQL server's user (uid ${user.uid}) can write neither to ${dir} nor to ${outside}`);
}

/** Asked of the system as that user, so that every directory above and group and ACL rules count. */
function writable(dir: string, user: Account): boolean {
  return spawnSync('test', ['-w', dir], { ...user }).status === 0;
}

/** Runs a command to completion: its output (stdout then stderr), or an error holding it. */
function run(command: string, args: string[], options: { cwd: string; input?: string; uid?: number; gid?: number }): Promise<string> {
  const { input, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...spawnOptions, env: serverEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    child.stdin.end(input ?? '');
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout + stderr);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${stdout}${stderr}`));
    });
  });
}

/** Starts the server and waits until it accepts connections; a port taken meanwhile by someone else means another try. */
async function listen(
  bin: string,
  dir: string,
  dataDir: string,
  user: Account | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  const logPath = join(dir, 'postgres.log');
  for (let attempt = 1; ; attempt++) {
    const port = await closedPort();
    const log = openSync(logPath, 'w');
    const args = ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'];
    const fast = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'].flatMap((setting) => ['-c', setting]);
    const child = spawn(join(bin, 'postgres'), [...args, ...fast], { cwd: dir, env: serverEnv, stdio: ['ignore', log, log], ...user });
    closeSync(log);
    if (await ready(child, dataDir, logPath)) return { child, port };
    const output = readFileSync(logPath, 'utf8');
    if (attempt < 3 && output.includes('Address already in use')) continue;
    throw new Error(`postgres did not start on 127.0.0.1:${port}:\n${output}`);
  }
}

/**
 * True once the server accepts connections: the status line of postmaster.pid (its 8th) reads "ready", as pg_ctl
 * checks it. The file is this server's own, so a server of someone else answering on the port cannot fool it.
 * False when the server exits first.
 */
async function ready(child: ChildProcess, dataDir: string, logPath: string): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      if (readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[7]?.trim() === 'ready') return true;
    } catch {
      // Not written yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGQUIT');
  throw new Error(`postgres did not accept connections within 30s (log: ${logPath})`);
}

function onPath(name: string): string | undefined {
  return (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, name))
    .find(isExecutable);
}
