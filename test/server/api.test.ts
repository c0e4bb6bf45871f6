import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http-server.js';
import type { RunHistory } from '../../src/state/run-history.js';
import { openSqliteHistory } from '../../src/state/sqlite-history.js';
import { type Answer, call, expectDocumented, expectEvent, readEvents } from '../helpers/api.js';
import { FLOW_BIN, flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

// The API over real HTTP, against a state file that real `flow run`s wrote; every answer checked against the
// OpenAPI document the server publishes.

const TOKEN = 'test-token-0123456789';
const OK = `name: ok
steps:
  - { id: greet, type: shell, config: { run: "echo hello; echo careful >&2" } }
  - { id: count, type: shell, for_each: [1, 2], config: { run: "echo item \${{ item }}" } }
`;
const BAD = `name: bad
steps:
  - { id: fail, type: shell, config: { run: "echo about to fail; exit 3" } }
`;
const TYPED = `name: typed
inputs:
  count: { type: number, required: true }
  who: { type: string, default: world }
steps:
  - { id: show, type: shell, config: { run: "echo \${{ inputs.count + 1 }} \${{ inputs.who }}" } }
outputs: { next: "\${{ inputs.count + 1 }}" }
`;
const COUNTED = `name: counted
inputs:
  n: { type: number, required: true }
steps:
  - { id: setup, type: shell, config: { run: "echo ran >> setups.txt" } }
  - { id: double, type: shell, config: { run: "echo ran >> runs.txt; echo \${{ inputs.n * 2 }}" } }
outputs: { double: "\${{ $trim(steps.double.output.stdout) }}" }
`;
const GATED = `name: gated
steps:
  - { id: first, type: shell, config: { run: "echo first" } }
  - { id: hold, type: shell, config: { run: "echo holding; while [ ! -f open ]; do sleep 0.05; done; echo released" } }
`;
const LIVE = `name: live
steps:
  - { id: wait, type: shell, config: { run: "echo waiting; while [ ! -f go ]; do sleep 0.05; done; echo went" } }
  - { id: after, type: shell, config: { run: "echo done" } }
`;

let dir: string;
let history: RunHistory;
let server: RunningServer;
let base: string;
const runIds: Record<string, string> = {};
const serverOptions = (readOnly: boolean) => ({
  host: '127.0.0.1',
  port: 0,
  token: TOKEN,
  history,
  statePath: join(dir, '.flow', 'state.db'),
  root: dir,
  readOnly,
  log: () => {},
});
const runIdOf = (stderr: string) => /flow: run (\w+) started/.exec(stderr)?.[1] ?? '';

beforeAll(async () => {
  dir = tempDir('flow-api-');
  for (const [name, yaml] of Object.entries({ ok: OK, bad: BAD, live: LIVE, typed: TYPED, gated: GATED, counted: COUNTED }))
    writeFileSync(join(dir, `${name}.yaml`), yaml);
  runIds['ok'] = runIdOf(flow(['run', 'ok.yaml'], dir).stderr);
  runIds['bad'] = runIdOf(flow(['run', 'bad.yaml'], dir).stderr);
  runIds['ok2'] = runIdOf(flow(['run', 'ok.yaml'], dir).stderr);
  history = openSqliteHistory(join(dir, '.flow', 'state.db'));
  server = await startServer(serverOptions(false));
  base = server.url;
});

afterAll(async () => {
  await server?.close();
  history?.close();
});

const get = (path: string) => call(base, `/api/v1${path}`, { token: TOKEN });
const runsOf = (a: Answer) => (a.body as { runs: { id: string }[] }).runs.map((r) => r.id);

describe('GET /runs', () => {
  it('lists the runs newest first, and filters by status, workflow, text and since', async () => {
    const all = await get('/runs');
    expect(all.status).toBe(200);
    expectDocumented('/runs', 'GET', all);
    expect(runsOf(all)).toEqual([runIds['ok2'], runIds['bad'], runIds['ok']]);
    expect(runsOf(await get('/runs?status=failed'))).toEqual([runIds['bad']]);
    expect(runsOf(await get('/runs?workflow=ok'))).toEqual([runIds['ok2'], runIds['ok']]);
    expect(runsOf(await get(`/runs?text=${runIds['bad']!.slice(2, 12)}`))).toEqual([runIds['bad']]);
    expect(runsOf(await get('/runs?since=2999-01-01T00:00:00Z'))).toEqual([]);
  });

  it('pages with next_cursor until the last page, which has none', async () => {
    const seen: string[] = [];
    let page = await get('/runs?limit=1');
    for (;;) {
      expectDocumented('/runs', 'GET', page);
      seen.push(...runsOf(page));
      const next = (page.body as { next_cursor: string | null }).next_cursor;
      if (next === null) break;
      page = await get(`/runs?limit=1&cursor=${next}`);
    }
    expect(seen).toEqual([runIds['ok2'], runIds['bad'], runIds['ok']]);
  });

  it('answers a bad parameter with a problem naming it', async () => {
    for (const query of ['status=done', 'since=yesterday', 'limit=0', 'cursor=nonsense']) {
      const a = await get(`/runs?${query}`);
      expect(a.status, query).toBe(400);
      expect(a.headers.get('content-type')).toBe('application/problem+json');
      expect(a.body).toMatchObject({ code: 'invalid-parameter', status: 400, detail: expect.stringContaining(query.split('=')[0]!) });
      expectDocumented('/runs', 'GET', a);
    }
  });
});

describe('GET /runs/{id} and its logs', () => {
  it('gives the run as flow show --json does', async () => {
    const a = await get(`/runs/${runIds['bad']}`);
    expect(a.status).toBe(200);
    expectDocumented('/runs/{id}', 'GET', a);
    const cli = JSON.parse(flow(['show', runIds['bad']!, '--json'], dir).stdout);
    expect(a.body).toEqual(cli);
    expect(a.body).toMatchObject({ status: 'failed', steps: [{ id: 'fail', error: { class: 'exit:3' } }] });
  });

  it("gives the plan of the run's workflow as a tree, and the inputs it declares", async () => {
    const a = await get(`/runs/${runIds['ok']}/graph`);
    expectDocumented('/runs/{id}/graph', 'GET', a);
    expect(a.body).toMatchObject({
      graph: {
        steps: [
          { id: 'greet', kind: 'action', type: 'shell', for_each: false },
          { id: 'count', kind: 'action', for_each: true },
        ],
      },
      inputs: [],
    });
  });

  it('answers an unknown run with a 404 problem', async () => {
    const a = await get('/runs/no-such-run');
    expect(a.status).toBe(404);
    expect(a.body).toMatchObject({ code: 'unknown-run', type: 'urn:flow:problem:unknown-run' });
    expectDocumented('/runs/{id}', 'GET', a);
  });

  it("gives a step's output chunks, a range at a time; an item by its index", async () => {
    const whole = await get(`/runs/${runIds['ok']}/steps/greet/logs`);
    expectDocumented('/runs/{id}/steps/{step}/logs', 'GET', whole);
    expect(whole.body).toMatchObject({
      total: 2,
      chunks: [
        { step_id: 'greet', stream: 'stdout', text: 'hello\n' },
        { step_id: 'greet', stream: 'stderr', text: 'careful\n' },
      ],
    });
    const second = await get(`/runs/${runIds['ok']}/steps/greet/logs?offset=1&limit=1`);
    expect(second.body).toMatchObject({ total: 2, offset: 1, chunks: [{ stream: 'stderr' }] });
    const item = await get(`/runs/${runIds['ok']}/steps/${encodeURIComponent('count[1]')}/logs`);
    expect((item.body as { chunks: { text: string }[] }).chunks.map((c) => c.text)).toEqual(['item 2\n']);
    const unknown = await get(`/runs/${runIds['ok']}/steps/nope/logs`);
    expect(unknown.status).toBe(404);
    expectDocumented('/runs/{id}/steps/{step}/logs', 'GET', unknown);
  });
});

describe('security', () => {
  it('refuses a request without the token, or with a wrong one', async () => {
    for (const token of [undefined, 'wrong', `${TOKEN}x`]) {
      const a = await call(base, '/api/v1/runs', token === undefined ? {} : { token });
      expect(a.status).toBe(401);
      expect(a.body).toMatchObject({ code: 'unauthorized' });
      expectDocumented('/runs', 'GET', a);
    }
  });

  it('trades the token in the printed URL for an HttpOnly, SameSite=Strict cookie, which then works alone', async () => {
    const a = await call(base, `/?token=${TOKEN}`);
    expect(a.status).toBe(303);
    expect(a.headers.get('location')).toBe('/');
    const cookie = a.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^flow_token=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    const withCookie = await call(base, '/api/v1/runs', { headers: { cookie: cookie.split(';')[0]! } });
    expect(withCookie.status).toBe(200);
    expect((await call(base, '/?token=wrong')).status).toBe(401);
  });

  it('answers only to its own Host (no DNS rebinding), and never with CORS headers', async () => {
    // fetch will not send another Host: node:http does, as a rebinding page's requests would arrive.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/api/v1/runs`, { headers: { host: 'attacker.example', authorization: `Bearer ${TOKEN}` } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ code: 'host-not-allowed' });
    // A browser's preflight carries no token: refused, with nothing that would let the page go on.
    const preflight = await call(base, '/api/v1/runs', {
      method: 'OPTIONS',
      headers: { origin: 'http://attacker.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(401);
    expect([...preflight.headers.keys()].filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });

  it('refuses a request that changes state from another origin, or with the cookie alone and no Origin', async () => {
    const cookie = `flow_token=${TOKEN}`;
    const foreign = await call(base, '/api/v1/runs', { method: 'POST', headers: { cookie, origin: 'http://attacker.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ code: 'origin-not-allowed' });
    const noOrigin = await call(base, '/api/v1/runs', { method: 'POST', headers: { cookie } });
    expect(noOrigin.body).toMatchObject({ code: 'origin-not-allowed' });
  });

  it('publishes its OpenAPI document, which names every route it answers', async () => {
    const a = await get('/openapi.json');
    expect(a.status).toBe(200);
    expect(Object.keys((a.body as { paths: object }).paths)).toEqual([
      '/runs',
      '/runs/{id}',
      '/runs/{id}/steps/{step}/logs',
      '/runs/{id}/events',
      '/runs/{id}/graph',
      '/runs/{id}/resume',
      '/runs/{id}/rerun',
      '/runs/{id}/cancel',
      '/events',
      '/workflows',
      '/workflows/{path}',
      '/workflows/validate',
      '/openapi.json',
    ]);
  });
});

describe('GET /runs/{id}/events', () => {
  it('sends a snapshot, then every event of a live run to each of 20 clients; Last-Event-ID replays from there', async () => {
    const driver = spawn(process.execPath, [FLOW_BIN, 'run', 'live.yaml'], { cwd: dir, env: { ...process.env, CI: 'true' } });
    let stderr = '';
    driver.stderr.on('data', (d) => (stderr += d));
    const ended = new Promise((resolve) => driver.on('close', resolve));
    const start = Date.now();
    while (!/\[wait\] \| waiting/.test(stderr) && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 20));
    const runId = runIdOf(stderr);
    const url = `${base}/api/v1/runs/${runId}/events`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const finished = (ms: { data: string }[]) => ms.some((m) => m.data.includes('"type":"run-finished"'));
    const clients = Array.from({ length: 20 }, () => readEvents(url, headers, finished));
    // Every client has its snapshot before the run goes on.
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(dir, 'go'), '');
    const streams = await Promise.all(clients);
    await ended;
    const stored = history.eventsSince(runId, 0, 1000);
    for (const messages of streams) {
      const [snapshot, ...events] = messages;
      expect(snapshot).toMatchObject({ event: 'snapshot' });
      expect(JSON.parse(snapshot!.data)).toMatchObject({ id: runId, status: 'running' });
      // After the snapshot: exactly the stored events after its id, in order, each its --json line.
      const from = Number(snapshot!.id);
      expect(events.map((m) => [Number(m.id), m.data])).toEqual(stored.filter((e) => e.seq > from).map((e) => [e.seq, e.line]));
    }
    for (const m of streams[0]!.slice(1)) expectEvent(JSON.parse(m.data));
    expect(streams[0]!.slice(1).map((m) => JSON.parse(m.data).type)).toContain('step-output');
    const middle = stored[Math.floor(stored.length / 2)]!;
    const replay = await readEvents(url, { ...headers, 'last-event-id': String(middle.seq) }, finished);
    expect(replay.slice(1).map((m) => Number(m.id))).toEqual(stored.filter((e) => e.seq > middle.seq).map((e) => e.seq));
  });
});

const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(base, `/api/v1${path}`, {
    method: 'POST',
    token: TOKEN,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function until(runId: string, done: (status: string) => boolean): Promise<string> {
  const start = Date.now();
  for (;;) {
    const status = (await get(`/runs/${runId}`)).body as { status: string };
    if (done(status.status) || Date.now() - start > 20_000) return status.status;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('GET /events', () => {
  it("sends the newest runs, then every run's events (not their output) in the file's order; Last-Event-ID replays", async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    let runId = '';
    const done = (ms: { data: string }[]) =>
      runId !== '' && ms.some((m) => m.data.includes('"type":"run-finished"') && m.data.includes(runId));
    const reading = readEvents(`${base}/api/v1/events`, headers, done);
    await new Promise((r) => setTimeout(r, 200));
    runId = runIdOf(flow(['run', 'ok.yaml'], dir).stderr);
    const [snapshot, ...events] = await reading;
    expect(snapshot!.event).toBe('snapshot');
    expect(JSON.parse(snapshot!.data)).toMatchObject({ runs: expect.any(Array), next_cursor: null });
    const lines = events.map((m) => JSON.parse(m.data) as { type: string; run_id?: string; run?: { id: string } });
    for (const line of lines) expectEvent(line);
    expect(lines[0]).toMatchObject({ type: 'run-started', run: { id: runId } });
    expect(lines.map((l) => l.type)).not.toContain('step-output');
    const ids = events.map((m) => Number(m.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const replay = await readEvents(
      `${base}/api/v1/events`,
      { ...headers, 'last-event-id': String(ids[2]) },
      (ms) => ms.length >= events.length - 2,
    );
    expect(replay.slice(1).map((m) => Number(m.id))).toEqual(ids.slice(3));
  });
});

describe('POST /runs, /runs/{id}/cancel and /runs/{id}/resume', () => {
  it('starts a file with typed inputs, answers with the id once the run is recorded, and the server drives it', async () => {
    const a = await post('/runs', { workflow: 'typed.yaml', inputs: { count: 41 } });
    expect(a.status).toBe(201);
    expectDocumented('/runs', 'POST', a);
    const id = (a.body as { id: string }).id;
    const now = await get(`/runs/${id}`);
    expect(now.status).toBe(200);
    expect(await until(id, (s) => s !== 'running')).toBe('succeeded');
    expect((await get(`/runs/${id}`)).body).toMatchObject({ inputs: { count: 41, who: 'world' }, outputs: { next: 42 } });
    expect(flow(['logs', id], dir).stdout).toBe('[show] | 42 world\n');
  });

  it('refuses what flow run refuses, with its code: a missing input, a file outside the root, a body that is not JSON', async () => {
    const missing = await post('/runs', { workflow: 'typed.yaml' });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'input', detail: expect.stringContaining('count') });
    expectDocumented('/runs', 'POST', missing);
    const outside = await post('/runs', { workflow: '../elsewhere.yaml' });
    expect(outside.body).toMatchObject({ status: 400, code: 'outside-root' });
    const absent = await post('/runs', { workflow: 'absent.yaml' });
    expect(absent.body).toMatchObject({ status: 404, code: 'file-not-readable' });
    const text = await post('/runs', 'workflow=ok.yaml', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expectDocumented('/runs', 'POST', text);
  });

  it('cancels a run it drives (interrupted, resumable), previews the resume, and resumes it to the end', async () => {
    const started = await post('/runs', { workflow: 'gated.yaml' });
    const id = (started.body as { id: string }).id;
    const holding = Date.now();
    while (!flow(['logs', id, 'hold'], dir).stdout.includes('holding') && Date.now() - holding < 15_000)
      await new Promise((r) => setTimeout(r, 50));
    // Driven by the server process itself, under its lease.
    expect(history.getRun(id)?.owner?.pid).toBe(process.pid);
    const cancelled = await post(`/runs/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expectDocumented('/runs/{id}/cancel', 'POST', cancelled);
    expect(cancelled.body).toMatchObject({ status: 'interrupted' });
    const plan = await post(`/runs/${id}/resume`, { plan: true });
    expect(plan.status).toBe(200);
    expectDocumented('/runs/{id}/resume', 'POST', plan);
    expect((plan.body as { plan: string }).plan).toBe(flow(['resume', id, '--plan'], dir).stdout.trimEnd());
    writeFileSync(join(dir, 'open'), '');
    const resumed = await post(`/runs/${id}/resume`, {});
    expect(resumed.status).toBe(201);
    expectDocumented('/runs/{id}/resume', 'POST', resumed);
    expect(await until(id, (s) => s !== 'running')).toBe('succeeded');
    expect((await get(`/runs/${id}`)).body).toMatchObject({ attempt: 2 });
    const again = await post(`/runs/${id}/resume`, {});
    expect(again.body).toMatchObject({ status: 409, code: 'run-succeeded' });
    const notRunning = await post(`/runs/${id}/cancel`);
    expect(notRunning.body).toMatchObject({ status: 409, code: 'not-running' });
  });

  it('reruns a run as a new one: unchanged, its succeeded steps are taken over; with an input changed, those from the first that reads it run again', async () => {
    const lines = (file: string) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).length;
    const ran = () => lines('runs.txt');
    const first = ((await post('/runs', { workflow: 'counted.yaml', inputs: { n: 2 } })).body as { id: string }).id;
    expect(await until(first, (s) => s !== 'running')).toBe('succeeded');
    expect(ran()).toBe(1);
    const same = await post(`/runs/${first}/rerun`, {});
    expect(same.status).toBe(201);
    expectDocumented('/runs/{id}/rerun', 'POST', same);
    const sameId = (same.body as { id: string }).id;
    expect(sameId).not.toBe(first);
    expect(await until(sameId, (s) => s !== 'running')).toBe('succeeded');
    expect(ran()).toBe(1);
    expect((await get(`/runs/${sameId}`)).body).toMatchObject({
      outputs: { double: '4' },
      steps: [
        { id: 'setup', status: 'succeeded' },
        { id: 'double', status: 'succeeded' },
      ],
    });
    const changed = ((await post(`/runs/${first}/rerun`, { inputs: { n: 5 } })).body as { id: string }).id;
    expect(await until(changed, (s) => s !== 'running')).toBe('succeeded');
    expect(ran()).toBe(2);
    expect(lines('setups.txt')).toBe(1);
    expect((await get(`/runs/${changed}`)).body).toMatchObject({ inputs: { n: 5 }, outputs: { double: '10' } });
    expect((await post('/runs/no-such-run/rerun', {})).body).toMatchObject({ status: 404, code: 'unknown-run' });
  });

  it('with --read-only refuses every change and still answers reads', async () => {
    const readOnly = await startServer(serverOptions(true));
    try {
      const refused = await call(readOnly.url, '/api/v1/runs', {
        method: 'POST',
        token: TOKEN,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workflow: 'ok.yaml' }),
      });
      expect(refused.body).toMatchObject({ status: 403, code: 'read-only' });
      expect((await call(readOnly.url, '/api/v1/runs', { token: TOKEN })).status).toBe(200);
    } finally {
      await readOnly.close();
    }
  });
});

describe('workflows', () => {
  beforeAll(() => {
    writeFileSync(join(dir, 'broken.yaml'), 'name: broken\nsteps:\n  - { id: a, type: shel }\n');
    writeFileSync(join(dir, 'compose.yml'), 'services: {}\n');
  });

  it('lists the workflow files under the served directory with their state, skipping what is not a workflow', async () => {
    const a = await get('/workflows');
    expectDocumented('/workflows', 'GET', a);
    const byPath = new Map((a.body as { workflows: { path: string }[] }).workflows.map((w) => [w.path, w]));
    expect(byPath.get('ok.yaml')).toEqual({ path: 'ok.yaml', name: 'ok', valid: true, errors: 0, warnings: 0 });
    expect(byPath.get('broken.yaml')).toMatchObject({ valid: false, errors: 1 });
    expect(byPath.has('compose.yml')).toBe(false);
  });

  it('gives one file with its problems at line and column, its inputs and its plan as a graph', async () => {
    const typed = await get('/workflows/typed.yaml');
    expectDocumented('/workflows/{path}', 'GET', typed);
    expect(typed.body).toMatchObject({
      valid: true,
      inputs: [
        { name: 'count', type: 'number', required: true, default: null, secret: false },
        { name: 'who', type: 'string', required: false, default: 'world' },
      ],
      graph: { steps: [{ id: 'show', kind: 'action', type: 'shell', for_each: false, children: [] }] },
    });
    const ok = await get('/workflows/ok.yaml');
    expect((ok.body as { graph: { steps: unknown[] } }).graph.steps[1]).toMatchObject({ id: 'count', for_each: true });
    const broken = await get('/workflows/broken.yaml');
    expect(broken.body).toMatchObject({
      valid: false,
      graph: null,
      diagnostics: [{ line: 3, column: 20, severity: 'error', code: 'unknown-step-type', hint: expect.stringContaining('shell') }],
    });
    expect((await get('/workflows/..%2Fetc%2Fpasswd')).body).toMatchObject({ status: 400, code: 'outside-root' });
    const absent = await get('/workflows/absent.yaml');
    expect(absent.status).toBe(404);
    expectDocumented('/workflows/{path}', 'GET', absent);
  });

  it('checks a text sent to it as flow validate checks a file', async () => {
    const a = await post('/workflows/validate', {
      text: 'name: x\nsteps:\n  - { id: a, type: shell, config: { run: "echo ${{ inputs.nope }}" } }\n',
    });
    expect(a.status).toBe(200);
    expectDocumented('/workflows/validate', 'POST', a);
    expect(a.body).toMatchObject({ valid: false, diagnostics: [{ line: 3, code: 'unknown-input' }] });
  });
});
