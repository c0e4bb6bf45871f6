import { afterAll, describe, expect, it } from 'vitest';
import { StepFailure } from '../../src/engine/step-failure.js';
import { httpExecutor, retryAfterMs } from '../../src/executors/http.js';
import { closedPort, type Handler, serversClosedAfterEach } from '../helpers/http-server.js';
import { failure } from '../helpers/step-failure.js';
import { removeStepContextDirs, stepContext } from '../helpers/step-context.js';

const server = serversClosedAfterEach();
afterAll(removeStepContextDirs);

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

const json =
  (status: number, value: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };

describe('http executor: requests', () => {
  it('GET appends query parameters to the URL and keeps the ones it already has', async () => {
    const s = await server(json(200, { ok: true }));
    const out = (await httpExecutor.execute(
      { url: `${s.url}/search?fixed=1`, query: { q: 'a b&c', n: 3, flag: true } },
      stepContext(),
    )) as Record<string, unknown>;
    expect(out['status']).toBe(200);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]!.method).toBe('GET');
    const sent = new URL(s.requests[0]!.url, s.url);
    expect(sent.pathname).toBe('/search');
    expect([...sent.searchParams]).toEqual([
      ['fixed', '1'],
      ['q', 'a b&c'],
      ['n', '3'],
      ['flag', 'true'],
    ]);
    expect(s.requests[0]!.body).toBe('');
  });

  it('sends configured headers', async () => {
    const s = await server(json(200, {}));
    await httpExecutor.execute({ url: s.url, headers: { Authorization: 'Bearer t0k', 'X-Trace': 'abc' } }, stepContext());
    expect(s.requests[0]!.headers['authorization']).toBe('Bearer t0k');
    expect(s.requests[0]!.headers['x-trace']).toBe('abc');
  });

  it('POST with `json` sends the serialized value with a JSON content-type (POST is the default method with a body)', async () => {
    const s = await server(json(201, { id: 7 }));
    const payload = { name: 'doc', tags: ['a', 'b'], nested: { n: 1, nil: null } };
    const out = (await httpExecutor.execute({ url: `${s.url}/items`, json: payload }, stepContext())) as Record<string, unknown>;
    const req = s.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual(payload);
    expect(out['status']).toBe(201);
    expect(out['json']).toEqual({ id: 7 });
  });

  it('a configured content-type wins over the JSON default; `body` is sent as is', async () => {
    const s = await server(json(200, {}));
    await httpExecutor.execute({ url: s.url, json: [1], headers: { 'Content-Type': 'application/vnd.api+json' } }, stepContext());
    await httpExecutor.execute(
      { url: s.url, method: 'PUT', body: 'plain <text>', headers: { 'content-type': 'text/plain' } },
      stepContext(),
    );
    expect(s.requests[0]!.headers['content-type']).toBe('application/vnd.api+json');
    expect(s.requests[0]!.body).toBe('[1]');
    expect(s.requests[1]!.method).toBe('PUT');
    expect(s.requests[1]!.body).toBe('plain <text>');
  });

  it('sends Idempotency-Key = context.idempotencyKey on POST, not on GET', async () => {
    const s = await server(json(200, {}));
    const context = stepContext({ idempotencyKey: 'run_42:charge:-1' });
    await httpExecutor.execute({ url: s.url, method: 'POST', json: { amount: 1 } }, context);
    await httpExecutor.execute({ url: s.url, method: 'GET' }, context);
    expect(s.requests[0]!.headers['idempotency-key']).toBe('run_42:charge:-1');
    expect(s.requests[1]!.headers).not.toHaveProperty('idempotency-key');
  });

  it('keeps an Idempotency-Key the workflow set itself', async () => {
    const s = await server(json(200, {}));
    await httpExecutor.execute(
      { url: s.url, method: 'DELETE', headers: { 'Idempotency-Key': 'mine' } },
      stepContext({ idempotencyKey: 'engine' }),
    );
    expect(s.requests[0]!.headers['idempotency-key']).toBe('mine');
  });
});

describe('http executor: responses', () => {
  it('parses a JSON body into `json` and keeps the text and headers', async () => {
    const s = await server(json(200, { pages: ['p1', 'p2'], n: 2 }, { 'x-custom': 'yes' }));
    const out = (await httpExecutor.execute({ url: s.url }, stepContext())) as Record<string, unknown>;
    expect(out['json']).toEqual({ pages: ['p1', 'p2'], n: 2 });
    expect(out['body']).toBe('{"pages":["p1","p2"],"n":2}');
    expect(out['headers']).toMatchObject({ 'content-type': 'application/json', 'x-custom': 'yes' });
  });

  it('a JSON-looking body without a JSON content-type is parsed too', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('  [1, 2, 3]');
    });
    const out = (await httpExecutor.execute({ url: s.url }, stepContext())) as Record<string, unknown>;
    expect(out['json']).toEqual([1, 2, 3]);
  });

  it('a non-JSON body stays text, with no `json` key (also when the content-type claims JSON)', async () => {
    const s = await server((req, res) => {
      res.writeHead(200, { 'content-type': req.url === '/lying' ? 'application/json' : 'text/html' });
      res.end(req.url === '/lying' ? '{not json' : '<h1>hello</h1>');
    });
    const html = (await httpExecutor.execute({ url: `${s.url}/html` }, stepContext())) as Record<string, unknown>;
    expect(html['body']).toBe('<h1>hello</h1>');
    expect(html).not.toHaveProperty('json');
    const lying = (await httpExecutor.execute({ url: `${s.url}/lying` }, stepContext())) as Record<string, unknown>;
    expect(lying['body']).toBe('{not json');
    expect(lying).not.toHaveProperty('json');
  });

  it('expect_status mismatch throws StepFailure http:404 that keeps the output', async () => {
    const s = await server(json(404, { error: 'no such document' }));
    const err = await failure(httpExecutor.execute({ url: `${s.url}/doc/1`, expect_status: [200] }, stepContext()));
    expect(err.errorClass).toBe('http:404');
    expect(err.message).toContain('404');
    expect(err.output).toMatchObject({ status: 404, json: { error: 'no such document' }, body: '{"error":"no such document"}' });
    expect(err.retryAfterMs).toBeUndefined();
  });

  it('without expect_status any non-2xx fails; a listed status is accepted', async () => {
    const s = await server(json(404, { error: 'gone' }));
    const err = await failure(httpExecutor.execute({ url: s.url }, stepContext()));
    expect(err.errorClass).toBe('http:404');
    const out = (await httpExecutor.execute({ url: s.url, expect_status: [200, 404] }, stepContext())) as Record<string, unknown>;
    expect(out['status']).toBe(404);
    const single = (await httpExecutor.execute({ url: s.url, expect_status: 404 }, stepContext())) as Record<string, unknown>;
    expect(single['status']).toBe(404);
  });

  it('a 2xx outside expect_status fails', async () => {
    const s = await server(json(200, {}));
    const err = await failure(httpExecutor.execute({ url: s.url, expect_status: [201] }, stepContext()));
    expect(err.errorClass).toBe('http:200');
  });

  it('429 with Retry-After: 2 carries retryAfterMs 2000', async () => {
    const s = await server(json(429, { error: 'slow down' }, { 'retry-after': '2' }));
    const err = await failure(httpExecutor.execute({ url: s.url }, stepContext()));
    expect(err.errorClass).toBe('http:429');
    expect(err.retryAfterMs).toBe(2000);
  });

  it('503 with an HTTP-date Retry-After carries the time until that date', async () => {
    const at = new Date(Date.now() + 120_000);
    const s = await server((_req, res) => {
      res.writeHead(503, { 'retry-after': at.toUTCString() });
      res.end('maintenance');
    });
    const err = await failure(httpExecutor.execute({ url: s.url }, stepContext()));
    expect(err.errorClass).toBe('http:503');
    // An HTTP date has whole seconds, and some time passes before the header is read.
    expect(err.retryAfterMs).toBeGreaterThan(100_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('Retry-After on another status is not taken as a delay', async () => {
    const s = await server(json(500, {}, { 'retry-after': '5' }));
    const err = await failure(httpExecutor.execute({ url: s.url }, stepContext()));
    expect(err.errorClass).toBe('http:500');
    expect(err.retryAfterMs).toBeUndefined();
  });
});

describe('http executor: failures before a response', () => {
  it('connection refused is errorClass network', async () => {
    const port = await closedPort();
    const err = await failure(httpExecutor.execute({ url: `http://127.0.0.1:${port}/` }, stepContext()));
    expect(err.errorClass).toBe('network');
    expect(err.message).toContain('ECONNREFUSED');
  });

  // Bounded at 5 s: on Node 20, AbortSignal.any([.., AbortSignal.timeout(ms)]) in http.ts loses its timeout when a
  // garbage collection runs first (nodejs/node#57736), and the request then waits forever (see the report).
  it('config.timeout against a server that never answers is errorClass timeout', async () => {
    const s = await server(() => {
      // never answers
    });
    const err = await failure(httpExecutor.execute({ url: s.url, timeout: '100ms' }, stepContext()));
    expect(err.errorClass).toBe('timeout');
    expect(s.requests).toHaveLength(1);
  }, 5_000);

  it('aborting context.signal rejects with the abort reason (not a timeout, not a StepFailure of its own)', async () => {
    const s = await server(() => {
      // never answers
    });
    const context = stepContext();
    const running = httpExecutor.execute({ url: s.url, timeout: '1h' }, context);
    await until(() => s.requests.length === 1);
    const reason = new StepFailure('cancelled', 'a sibling failed');
    context.controller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });

  it('an already-aborted signal sends nothing', async () => {
    const s = await server(json(200, {}));
    const context = stepContext();
    context.controller.abort(new StepFailure('interrupted', 'SIGINT'));
    await expect(httpExecutor.execute({ url: s.url }, context)).rejects.toMatchObject({ errorClass: 'interrupted' });
    expect(s.requests).toHaveLength(0);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it.each([
    ['2', 2000],
    ['0', 0],
    ['1.5', 1500],
    ['Wed, 01 May 2024 12:00:30 GMT', 30_000],
    ['Wed, 01 May 2024 11:00:00 GMT', 0], // in the past: no wait
    ['999999999', 60 * 60 * 1000], // capped at an hour
    ['-5', 0],
  ])('%j -> %j', (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });
  it.each([[null], [''], ['soon']])('%j -> undefined', (header) => {
    expect(retryAfterMs(header, now)).toBeUndefined();
  });
});

describe('http executor: a response that stalls', () => {
  it('a body that never finishes within the timeout fails with class timeout, not cancelled', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const err = await failure(httpExecutor.execute({ url: s.url, timeout: '150ms' }, stepContext()));
    expect(err.errorClass).toBe('timeout');
  });
});

describe('http executor: a large body', () => {
  it('keeps at most the limit and counts the rest, reading as it streams', async () => {
    const { readBody } = await import('../../src/executors/http.js');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1000)));
        controller.close();
      },
    });
    const text = await readBody(new Response(body), 2500);
    expect(text).toBe(`${'x'.repeat(2500)}\n[flow: body truncated; 1500 more bytes not kept]`);
  });
});
