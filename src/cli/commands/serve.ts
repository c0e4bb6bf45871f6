import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, UsageError } from '../../model/errors.js';
import { startServer } from '../../server/http-server.js';
import { isLoopback, newToken } from '../../server/security.js';
import { wholeNumber } from '../flags.js';
import type { CommandIO } from '../io.js';
import { statePath } from '../state-path.js';
import { openRunHistory } from '../../state/open-history.js';
import { killGraceMs } from '../../executors/process-groups.js';

export interface ServeOptions {
  host: string;
  port: string;
  state?: string;
  root?: string;
  readOnly?: boolean;
  /** flow ui: the dashboard too, opened in the browser unless `open` is false (--no-open). */
  ui?: boolean;
  open?: boolean;
}

export const DEFAULT_PORT = 7870;

// `flow serve`: the HTTP API over the state file until SIGINT or SIGTERM. The first line says where, with the token.
export async function serveCommand(options: ServeOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const port = wholeNumber('--port', options.port, 0);
  killGraceMs();
  if (port > 65_535) throw new UsageError(`--port ${port} is not a port`, 'give 1 to 65535, or 0 for any free port');
  const env = io.env ?? process.env;
  const chosen = env['FLOW_SERVE_TOKEN'];
  // Off loopback the token is the only guard: it must be one the user chose and can pass on, never left to chance.
  if (!isLoopback(options.host) && !chosen)
    throw new UsageError(
      `--host ${options.host} is reachable from other machines: set FLOW_SERVE_TOKEN to the token they must send`,
      'or serve on 127.0.0.1 (the default) and reach it through an SSH tunnel',
    );
  const token = chosen || newToken();
  const root = workflowRoot(options.root, io.cwd);
  const path = statePath(options.state, io);
  const history = await openRunHistory(path);
  try {
    const server = await startServer({
      host: options.host,
      port,
      token,
      history,
      statePath: path,
      root,
      readOnly: options.readOnly === true,
      // Beside the bundled chunk this runs from: the build puts the dashboard in dist/ui.
      ui: options.ui ? fileURLToPath(new URL('./ui/', import.meta.url)) : undefined,
      log: (message) => io.stderr(message),
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use`, 'give another with --port N (0: any free port)');
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        throw new UsageError(`cannot listen on ${options.host}`, 'give an address of this machine with --host');
      throw err;
    });
    const address = `${server.url}/?token=${token}`;
    io.stderr(`flow: serving ${address}${options.readOnly ? ' (read-only)' : ''}`);
    if (options.ui && options.open !== false) openInBrowser(address);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    return EXIT.ok;
  } finally {
    history.close();
  }
}

/** --root: a directory that exists, resolved against the working directory. */
function workflowRoot(flag: string | undefined, cwd: string): string {
  if (flag === undefined) return cwd;
  const dir = resolve(cwd, flag);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing: said below
  }
  if (!isDir) throw new UsageError(`--root ${flag}: no such directory`, 'give the directory that holds the workflow files');
  return dir;
}

/** The system's way to open a URL; where there is none (a server, a container) the printed line is the way. */
function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // no browser to open: the URL is printed
  }
}
