import { EXIT, UsageError } from '../../model/errors.js';
import { startServer } from '../../server/http-server.js';
import { isLoopback, newToken } from '../../server/security.js';
import { openSqliteHistory } from '../../state/sqlite-history.js';
import { wholeNumber } from '../flags.js';
import type { CommandIO } from '../io.js';
import { statePath } from '../state-path.js';

export interface ServeOptions {
  host: string;
  port: string;
  state?: string;
  readOnly?: boolean;
}

export const DEFAULT_PORT = 7870;

// `flow serve`: the HTTP API over the state file until SIGINT or SIGTERM. The first line says where, with the token.
export async function serveCommand(options: ServeOptions, io: CommandIO, signal: AbortSignal): Promise<number> {
  const port = wholeNumber('--port', options.port, 0);
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
  const path = statePath(options.state, io);
  const history = openSqliteHistory(path);
  try {
    const server = await startServer({
      host: options.host,
      port,
      token,
      history,
      statePath: path,
      root: io.cwd,
      readOnly: options.readOnly === true,
      log: (message) => io.stderr(message),
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use`, 'give another with --port N (0: any free port)');
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        throw new UsageError(`cannot listen on ${options.host}`, 'give an address of this machine with --host');
      throw err;
    });
    io.stderr(`flow: serving ${server.url}/?token=${token}${options.readOnly ? ' (read-only)' : ''}`);
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
