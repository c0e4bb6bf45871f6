import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { serviceUrl } from '../../src/executors/http.js';
import { runYaml, statusOf } from '../helpers/engine.js';
import { type Handler, serversClosedAfterEach } from '../helpers/http-server.js';

// An http step that names a service, run by the real engine against a real server: the URL it reaches, the
// headers it sends, the timeout and retries it inherits.

const server = serversClosedAfterEach();

function answerOk(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}');
}
const ok: Handler = (_req, res) => answerOk(res);

const TOKEN = 'crm-t0ken-8f3e1d';

const catalog = (base: string, extra = '') => `secrets: [CRM_TOKEN]
services:
  crm:
    base_url: ${base}
    headers:
      Authorization: Bearer \${{ secrets.CRM_TOKEN }}
      X-Client: flow
${extra}`;

describe('serviceUrl', () => {
  it.each([
    ['https://api.example.com/v2', 'customers', 'https://api.example.com/v2/customers'],
    ['https://api.example.com/v2', '/customers/42', 'https://api.example.com/v2/customers/42'],
    ['https://api.example.com/v2/', '/customers', 'https://api.example.com/v2/customers'],
    ['https://api.example.com', 'customers?page=2', 'https://api.example.com/customers?page=2'],
    ['https://api.example.com/v2', 'a/../b', 'https://api.example.com/v2/b'],
  ])('%s + %s -> %s', (base, relative, joined) => {
    expect(serviceUrl(base, relative)).toBe(joined);
  });

  it('refuses an absolute url, which would carry the service’s credentials elsewhere, and a base that is no URL', () => {
    expect(() => serviceUrl('https://api.example.com', 'https://evil.example.com/x')).toThrow(/relative/);
    expect(() => serviceUrl('https://api.example.com', '//evil.example.com/x')).toThrow(/relative/);
    expect(() => serviceUrl('api.example.com', 'x')).toThrow(/not an absolute URL/);
  });
});

describe('http steps with a service', () => {
  it('reach base_url joined with url or path, keeping the base path, and send the query', async () => {
    const s = await server(ok);
    const run = await runYaml(
      `${catalog(`${s.url}/v2`)}steps:
  - id: by_url
    type: http
    config: { service: crm, url: /customers/42 }
  - id: by_path
    type: http
    config: { service: crm, path: customers, query: { page: 2 } }
`,
      { env: { CRM_TOKEN: TOKEN } },
    );
    expect(run.outcome.status).toBe('succeeded');
    expect(s.requests.map((r) => r.url)).toEqual(['/v2/customers/42', '/v2/customers?page=2']);
  });

  it('send the service’s headers with the secret read, the step’s own headers over them, and mask the secret', async () => {
    const s = await server(ok);
    const run = await runYaml(
      `${catalog(s.url)}steps:
  - id: fetch
    type: http
    config: { service: crm, url: /customers, headers: { x-client: step, X-Trace: t1 } }
`,
      { env: { CRM_TOKEN: TOKEN } },
    );
    expect(run.outcome.status).toBe('succeeded');
    const sent = s.requests[0]!.headers;
    expect(sent['authorization']).toBe(`Bearer ${TOKEN}`);
    // One value: the step's replaces the service's whatever the case of its name.
    expect(sent['x-client']).toBe('step');
    expect(sent['x-trace']).toBe('t1');
    expect(JSON.stringify(run.events)).not.toContain(TOKEN);
  });

  it('read base_url through an expression resolved in the step’s scope', async () => {
    const s = await server(ok);
    const run = await runYaml(
      `${catalog('"${{ env.CRM_URL }}/api"')}steps:\n  - id: fetch\n    type: http\n    config: { service: crm, url: ping }\n`,
      { env: { CRM_TOKEN: TOKEN, CRM_URL: s.url } },
    );
    expect(run.outcome.status).toBe('succeeded');
    expect(s.requests[0]!.url).toBe('/api/ping');
  });

  it('time out after the service’s timeout, unless the step sets its own', async () => {
    const s = await server((_req, res) => {
      setTimeout(() => answerOk(res), 400);
    });
    const run = await runYaml(
      `${catalog(s.url, '    timeout: 100ms\n')}steps:
  - id: hurried
    type: http
    continue_on_error: true
    config: { service: crm, url: /slow }
  - id: patient
    type: http
    config: { service: crm, url: /slow, timeout: 5s }
`,
      { env: { CRM_TOKEN: TOKEN } },
    );
    const hurried = run.outcome.results.get('hurried');
    expect(hurried?.status).toBe('failed');
    expect(hurried?.error).toMatchObject({ class: 'timeout' });
    expect(hurried?.error?.message).toContain('100ms');
    expect(statusOf(run, 'patient')).toBe('succeeded');
  }, 10_000);

  it('retry as the service says, unless the step has its own retry', async () => {
    let calls = 0;
    const s = await server((req, res) => {
      calls++;
      if (req.url === '/flaky' && calls < 3) {
        res.writeHead(503);
        res.end();
      } else if (req.url === '/down') {
        res.writeHead(503);
        res.end();
      } else answerOk(res);
    });
    const run = await runYaml(
      `${catalog(s.url, '    retry: { max_attempts: 3, backoff: constant, initial_delay: 10ms, on: [http:5xx] }\n')}steps:
  - id: flaky
    type: http
    config: { service: crm, url: /flaky }
  - id: once
    type: http
    retry: { max_attempts: 1 }
    continue_on_error: true
    config: { service: crm, url: /down }
`,
      { env: { CRM_TOKEN: TOKEN } },
    );
    expect(run.outcome.results.get('flaky')).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(run.outcome.results.get('once')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(s.requests.map((r) => r.url)).toEqual(['/flaky', '/flaky', '/flaky', '/down']);
  });
});
