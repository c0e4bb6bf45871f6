import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flow, flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { startHttpServer, type TestServer } from '../helpers/http-server.js';
import { defaultState, runIdOf } from '../helpers/state.js';

// A `services:` catalog whose header reads a secret, run by the built CLI: the server gets the credential,
// and no channel flow writes holds it, even though the server echoes it back into the step's output.

const TOKEN = 'crm-s3cret-7d41c09a';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const workflow = (base: string, service = 'crm') => `name: crm-sync
secrets: [CRM_TOKEN]
services:
  crm:
    base_url: ${base}/api/v2
    headers:
      Authorization: Bearer \${{ secrets.CRM_TOKEN }}
    timeout: 5s
steps:
  - id: customer
    type: http
    config:
      service: ${service}
      url: /customers/42
outputs:
  name: \${{ steps.customer.output.json.name }}
  seen: \${{ steps.customer.output.json.seen }}
`;

describe('flow run with a services: catalog', () => {
  it('sends the service’s secret header to the server and writes the secret nowhere', async () => {
    server = await startHttpServer((_req, res, request) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'Ada', seen: request.headers['authorization'] }));
    });
    const dir = tempDir('flow-services-');
    writeFileSync(join(dir, 'crm.yaml'), workflow(server.url));

    const r = await flowAsync(['run', 'crm.yaml', '--json'], dir, { CRM_TOKEN: TOKEN });
    expect(r.code, r.stderr).toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/api/v2/customers/42' });
    expect(server.requests[0]!.headers['authorization']).toBe(`Bearer ${TOKEN}`);

    const finished = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; outputs?: Record<string, unknown> })
      .find((e) => e.type === 'run-finished');
    expect(finished?.outputs).toEqual({ name: 'Ada', seen: 'Bearer ***' });

    const id = runIdOf(r.stderr);
    const state = defaultState(dir);
    const channels: Record<string, string> = {
      'stdout (NDJSON events)': r.stdout,
      stderr: r.stderr,
      'flow show --json': flow(['show', id, '--json'], dir).stdout,
      'flow logs': flow(['logs', id], dir).stdout,
      'the state file': readFileSync(state).toString('latin1'),
      'its WAL': existsSync(`${state}-wal`) ? readFileSync(`${state}-wal`).toString('latin1') : '',
    };
    expect(channels['flow show --json']).toContain('customer');
    for (const [name, text] of Object.entries(channels)) expect(text.includes(TOKEN), `the secret is in ${name}`).toBe(false);
  });

  it('is refused by flow validate and flow run when a step names a service the catalog lacks', () => {
    const dir = tempDir('flow-services-');
    writeFileSync(join(dir, 'crm.yaml'), workflow('http://127.0.0.1:9', 'crn'));
    const check = flow(['validate', 'crm.yaml'], dir);
    expect(check.code).toBe(2);
    expect(check.stdout).toContain("crm.yaml:13:16: error unknown-service: step 'customer' names service 'crn'");
    expect(check.stdout).toContain("did you mean 'crm'?");
    const run = flow(['run', 'crm.yaml'], dir, { CRM_TOKEN: TOKEN });
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toContain('unknown-service');
  });
});
