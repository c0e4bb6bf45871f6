import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunHistory } from '../state/run-history.js';
import { ChangeWatch, streamRunEvents } from './event-stream.js';
import { openApiDocument } from './openapi.js';
import { type Problem, problem, problemOf, sendProblem } from './problem.js';
import { getRun, listRuns, stepLogs } from './runs-api.js';
import { allowedHosts, checkRequest, TOKEN_COOKIE } from './security.js';

export interface ServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  token: string;
  history: RunHistory;
  readOnly: boolean;
  /** Where an internal error's cause goes (the server's own stderr), never into a response. */
  log: (message: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
}

type Handler = (r: Request) => unknown;

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handler: Handler;
}

const API = '/api/v1';
const segment = '([^/]+)';

// The HTTP API over the state file, on node:http: a table of routes, each a function of the request's URL to the
// JSON it answers (or a stream). Every request passes the security checks first; every failure is a problem+json.
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { history } = options;
  const watch = new ChangeWatch(history);
  let hosts = new Set<string>();
  const routes: Route[] = [
    { method: 'GET', path: route('/runs'), handler: (r) => listRuns(history, r.url.searchParams) },
    { method: 'GET', path: route(`/runs/${segment}`), handler: (r) => getRun(history, r.params[0]!) },
    {
      method: 'GET',
      path: route(`/runs/${segment}/steps/${segment}/logs`),
      handler: (r) => stepLogs(history, r.params[0]!, r.params[1]!, r.url.searchParams),
    },
    {
      method: 'GET',
      path: route(`/runs/${segment}/events`),
      handler: (r) => streamRunEvents(r.req, r.res, history, watch, r.params[0]!),
    },
    { method: 'GET', path: route('/openapi.json'), handler: () => openApiDocument() },
  ];

  const server = createServer((req, res) => {
    try {
      answer(req, res);
    } catch (err) {
      fail(res, err);
    }
  });
  const fail = (res: ServerResponse, err: unknown) => {
    const p: Problem = problemOf(err);
    if (p.code === 'internal') options.log(`flow serve: ${(err as Error)?.stack ?? String(err)}`);
    if (res.headersSent) res.destroy();
    else sendProblem(res, p);
  };

  function answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://server');
    // Opening the printed URL trades the token in the query for a cookie, and drops it from the address bar.
    const fromQuery = url.searchParams.get('token');
    if (req.method === 'GET' && fromQuery !== null) {
      checkRequest({ method: req.method, headers: { ...req.headers, authorization: `Bearer ${fromQuery}` } }, options.token, hosts);
      url.searchParams.delete('token');
      res.writeHead(303, {
        location: `${url.pathname}${url.search}`,
        'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(fromQuery)}; HttpOnly; SameSite=Strict; Path=/`,
      });
      res.end();
      return;
    }
    checkRequest(req, options.token, hosts);
    if (url.pathname === '/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`flow serve: the API is at ${API}; its OpenAPI document at ${API}/openapi.json\n`);
      return;
    }
    const matching = routes.filter((r) => r.path.test(url.pathname));
    if (matching.length === 0)
      throw problem(404, 'not-found', 'Not found', `no route ${url.pathname}`, `GET ${API}/openapi.json lists the routes`);
    const found = matching.find((r) => r.method === req.method);
    if (!found)
      throw problem(405, 'method-not-allowed', 'Method not allowed', `${url.pathname} takes ${matching.map((r) => r.method).join(', ')}`);
    if (found.method !== 'GET' && options.readOnly)
      throw problem(403, 'read-only', 'Read-only', 'this server was started with --read-only: it changes nothing');
    const params = found.path.exec(url.pathname)!.slice(1).map(decodeURIComponent);
    const body = found.handler({ req, res, url, params });
    if (res.headersSent || res.writableEnded) return;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(options.host, port);
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        watch.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function route(path: string): RegExp {
  return new RegExp(`^${API}${path}$`);
}
