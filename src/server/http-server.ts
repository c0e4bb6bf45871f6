import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import type { RunHistory } from '../state/run-history.js';
import { ChangeWatch, streamAllEvents, streamRunEvents } from './event-stream.js';
import { openApiDocument } from './openapi.js';
import { type Problem, problem, problemOf, sendProblem } from './problem.js';
import { RunControl } from './run-control.js';
import { getRun, listRuns, stepLogs } from './runs-api.js';
import { getWorkflow, listWorkflows, runGraph, validateText } from './workflows-api.js';
import { allowedHosts, checkRequest, TOKEN_COOKIE } from './security.js';

export interface ServerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  token: string;
  history: RunHistory;
  /** The state file, for the runs the server drives (they write through their own connection). */
  statePath: string;
  /** The directory workflow paths are relative to. */
  root: string;
  readOnly: boolean;
  /** The built dashboard (dist/ui) to serve under /ui (flow ui); none: the API alone. */
  ui?: string | undefined;
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
  /** The JSON body of a POST ({} when it has none). */
  body: unknown;
}

/** The JSON a route answers (with its status, 200 unless it says), or nothing when it answered itself (a stream). */
type Handler = (r: Request) => unknown | Promise<unknown>;

/** An answer with another status than 200. */
class Created {
  constructor(readonly body: unknown) {}
}

/** A POST body: JSON only, and small. */
const MAX_BODY = 1024 * 1024;

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
  const control = new RunControl({ root: options.root, statePath: options.statePath, history, log: options.log });
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
    { method: 'GET', path: route(`/runs/${segment}/graph`), handler: (r) => runGraph(history, r.params[0]!) },
    { method: 'GET', path: route('/events'), handler: (r) => streamAllEvents(r.req, r.res, history, watch) },
    { method: 'GET', path: route('/workflows'), handler: () => listWorkflows(options.root) },
    { method: 'POST', path: route('/workflows/validate'), handler: (r) => validateText(options.root, r.body) },
    { method: 'GET', path: route('/workflows/(.+)'), handler: (r) => getWorkflow(options.root, r.params[0]!) },
    { method: 'GET', path: route('/openapi.json'), handler: () => openApiDocument() },
    { method: 'POST', path: route('/runs'), handler: async (r) => new Created(await control.start(r.body)) },
    {
      method: 'POST',
      path: route(`/runs/${segment}/resume`),
      handler: async (r) => {
        const answer = await control.resume(r.params[0]!, r.body);
        return 'id' in answer ? new Created(answer) : answer;
      },
    },
    { method: 'POST', path: route(`/runs/${segment}/rerun`), handler: async (r) => new Created(await control.rerun(r.params[0]!, r.body)) },
    {
      method: 'POST',
      path: route(`/runs/${segment}/cancel`),
      handler: async (r) => {
        await control.cancel(r.params[0]!);
        return getRun(history, r.params[0]!);
      },
    },
  ];

  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => fail(res, err));
  });
  const fail = (res: ServerResponse, err: unknown) => {
    const p: Problem = problemOf(err);
    if (p.code === 'internal') options.log(`flow serve: ${(err as Error)?.stack ?? String(err)}`);
    if (res.headersSent) res.destroy();
    else sendProblem(res, p);
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    if (req.method === 'GET' && options.ui && (url.pathname === '/' || url.pathname.startsWith('/ui/'))) {
      await sendDashboard(res, options.ui, url.pathname);
      return;
    }
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
    const body = found.method === 'POST' ? await jsonBody(req) : undefined;
    const result = await found.handler({ req, res, url, params, body });
    if (res.headersSent || res.writableEnded) return;
    res.writeHead(result instanceof Created ? 201 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(result instanceof Created ? result.body : result));
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
        void control.close().then(() => server.close(() => resolve()));
        server.closeAllConnections();
      }),
  };
}

const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

// The dashboard's files, nothing from elsewhere: its page for every /ui path (the page routes itself), its assets as
// they were built. A policy that lets the page load only from this server.
async function sendDashboard(res: ServerResponse, dir: string, pathname: string): Promise<void> {
  if (pathname === '/') {
    res.writeHead(303, { location: '/ui/runs' });
    res.end();
    return;
  }
  const asset = /^\/ui\/assets\/(app\.(?:js|css))$/.exec(pathname)?.[1];
  const file = asset ? join(dir, 'assets', asset) : join(dir, 'index.html');
  const body = await readFile(file).catch(() => {
    throw problem(404, 'not-found', 'Not found', `no ${pathname}`);
  });
  res.writeHead(200, {
    'content-type': asset ? ASSET_TYPES[extname(asset)]! : 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw problem(413, 'body-too-large', 'Body too large', `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (type !== 'application/json')
    throw problem(415, 'not-json', 'JSON only', `a request body must be application/json, not '${type || 'untyped'}'`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw problem(400, 'invalid-body', 'Invalid body', 'the body is not valid JSON');
  }
}

function route(path: string): RegExp {
  return new RegExp(`^${API}${path}$`);
}
