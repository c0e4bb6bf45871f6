import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  url: string;
  /** Lower-cased names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The whole body, as UTF-8 text ('' when there was none). */
  body: string;
}

/** Answers a request; the body has already been read (it is `request.body`). */
export type Handler = (req: IncomingMessage, res: ServerResponse, request: RecordedRequest) => void | Promise<void>;

export interface TestServer {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  port: number;
  /** Every request received so far, in arrival order (recorded before the handler runs). */
  requests: RecordedRequest[];
  /** Stops the server, cutting connections that are still open (a handler that never answers does not block it). */
  close(): Promise<void>;
}

/** A real node:http server on 127.0.0.1 and a free port; the handler decides every answer. */
export async function startHttpServer(handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      Promise.resolve()
        .then(() => handler(req, res, request))
        .catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`test handler failed: ${(err as Error).message}`);
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on: bound by a real server, then released. */
export async function closedPort(): Promise<number> {
  const server = await startHttpServer((_req, res) => void res.end());
  await server.close();
  return server.port;
}

/** A `startHttpServer` whose servers are all closed after each test of the file that calls this at its top level. */
export function serversClosedAfterEach(): (handler: Handler) => Promise<TestServer> {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (handler) => {
    const s = await startHttpServer(handler);
    servers.push(s);
    return s;
  };
}
