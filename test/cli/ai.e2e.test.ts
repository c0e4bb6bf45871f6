import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FLOW_BIN, flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { type OpenAIServer, startOpenAIServer } from '../helpers/openai-server.js';
import { runIdOf } from '../helpers/state.js';

// AI steps as a user runs them: bin/flow.js, the openai SDK, a Chat Completions server on 127.0.0.1 named by
// OPENAI_BASE_URL, and the run recorded in SQLite.

let server: OpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const CLASSIFY = `name: triage
steps:
  - id: classify
    type: ai
    config: { model: gpt-4o-mini, system: "Answer spam or ham.", prompt: "WIN A PRIZE NOW" }
  - id: after
    type: shell
    config: { run: "test -f done || sleep 30; echo routed" }
outputs: { label: "\${{ steps.classify.output.text }}" }
`;

function workspace(yaml: string): string {
  const dir = tempDir('flow-ai-');
  writeFileSync(join(dir, 'w.yaml'), yaml);
  writeFileSync(join(dir, 'done'), '');
  return dir;
}

const env = (s: OpenAIServer) => ({ OPENAI_BASE_URL: s.url, OPENAI_API_KEY: 'sk-test' });

describe('an ai step', () => {
  it('is retried on a 429 after the wait the server asked, and records its answer, usage and cost', async () => {
    server = await startOpenAIServer([
      { status: 429, headers: { 'retry-after-ms': '300' }, error: { message: 'rate limited' } },
      { content: 'spam', usage: { prompt_tokens: 1000, completion_tokens: 10 } },
    ]);
    const dir = workspace(CLASSIFY);
    const r = await flowAsync(['run', 'w.yaml', '--junit', 'report.xml'], dir, env(server));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ label: 'spam' });
    const report = readFileSync(join(dir, 'report.xml'), 'utf8');
    expect(report).toContain('<property name="flow.ai_prompt_tokens" value="1000"/>');
    expect(report).toContain('<property name="flow.ai_cost_usd" value="0.000156"/>');
    expect(r.stderr).toMatch(/\[classify\] attempt 1 failed \(http:429: .*rate limited\); retrying in (\d{3,})ms/);
    expect(server.requests).toHaveLength(2);
    expect(r.stderr).toContain('  ai: 1 call, 1,010 tokens (1,000 in, 10 out), $0.000156');
    const text = await flowAsync(['show', runIdOf(r.stderr)], dir);
    expect(text.stdout).toContain('ai: 1 call, 1,010 tokens (1,000 in, 10 out), $0.000156');
    const show = await flowAsync(['show', runIdOf(r.stderr), '--json'], dir);
    expect(JSON.parse(show.stdout).ai).toEqual({
      calls: 1,
      models: ['gpt-4o-mini'],
      prompt_tokens: 1000,
      completion_tokens: 10,
      cached_tokens: 0,
      cost_usd: 0.000156,
      unpriced_calls: 0,
    });
    const step = (JSON.parse(show.stdout) as { steps: { id: string; attempts: number; output: unknown }[] }).steps.find(
      (s) => s.id === 'classify',
    );
    expect(step).toMatchObject({
      attempts: 2,
      attempt_history: [
        { attempt: 1, status: 'failed', error: { class: 'http:429' }, delay_ms: expect.any(Number), ai: null },
        { attempt: 2, status: 'succeeded', error: null, delay_ms: null, ai: { calls: 1, prompt_tokens: 1000 } },
      ],
      ai: { calls: 1, prompt_tokens: 1000, completion_tokens: 10, cost_usd: 0.000156 },
      output: { text: 'spam', model: 'gpt-4o-mini', usage: { prompt_tokens: 1000, completion_tokens: 10 }, cost: 0.000156 },
    });
  });

  it("counts a failed attempt's tokens: per attempt in the events, per step and per run in flow show, child runs included", async () => {
    // The first answer is cut off at max_tokens (billed), the retry answers; the child workflow's call counts too.
    server = await startOpenAIServer((req, i) =>
      req.body.model === 'gpt-4o'
        ? { content: 'child answer', usage: { prompt_tokens: 100, completion_tokens: 4 } }
        : i === 0
          ? { content: 'a long', finishReason: 'length', usage: { prompt_tokens: 500, completion_tokens: 100 } }
          : { content: 'spam', usage: { prompt_tokens: 500, completion_tokens: 10, cached_tokens: 400 } },
    );
    const dir = workspace(`name: spend
steps:
  - id: classify
    type: ai
    retry: { max_attempts: 2, initial_delay: 10ms, on: [ai:length] }
    config: { model: gpt-4o-mini, prompt: "WIN A PRIZE NOW", max_tokens: 100 }
  - id: sub
    type: workflow
    config: { path: child.yaml }
`);
    writeFileSync(join(dir, 'child.yaml'), 'name: child\nsteps:\n  - { id: ask, type: ai, config: { model: gpt-4o, prompt: hi } }\n');
    const r = await flowAsync(['run', 'w.yaml', '--json'], dir, env(server));
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const retrying = events.find((e) => e['type'] === 'step-retrying');
    // gpt-4o-mini: $0.15 / $0.60 per million tokens, cached input $0.075.
    expect(retrying).toMatchObject({
      step_id: 'classify',
      error: { class: 'ai:length' },
      ai: { calls: 1, prompt_tokens: 500, completion_tokens: 100, cached_tokens: 0, cost_usd: 0.000135 },
    });
    const finished = events.find((e) => e['type'] === 'step-finished' && e['step_id'] === 'classify');
    expect(finished).toMatchObject({ attempt: 2, ai: { calls: 1, prompt_tokens: 500, cached_tokens: 400, cost_usd: 0.000051 } });
    expect(events.find((e) => e['type'] === 'step-finished' && e['step_id'] === 'sub')).toMatchObject({ ai: null });
    // gpt-4o: $2.50 / $10 per million: the child's call is $0.00029.
    expect(r.stderr).toContain('ai: 3 calls, 1,214 tokens (1,100 in, 114 out), $0.000476');
    const show = JSON.parse((await flowAsync(['show', runIdOf(r.stderr), '--json'], dir)).stdout) as {
      ai: unknown;
      steps: { id: string; ai: unknown }[];
    };
    expect(show.ai).toEqual({
      calls: 3,
      models: ['gpt-4o-mini', 'gpt-4o'],
      prompt_tokens: 1100,
      completion_tokens: 114,
      cached_tokens: 400,
      cost_usd: 0.000476,
      unpriced_calls: 0,
    });
    expect(show.steps.find((s) => s.id === 'classify')!.ai).toMatchObject({ calls: 2, cost_usd: 0.000186 });
    // The list of runs carries the same total, child run included.
    const listed = JSON.parse((await flowAsync(['runs', '--json'], dir)).stdout) as { ai: unknown }[];
    expect(listed[0]!.ai).toMatchObject({ calls: 3, cost_usd: 0.000476 });
    expect(show.steps.find((s) => s.id === 'sub')!.ai).toMatchObject({ calls: 1, cost_usd: 0.00029 });
  });

  it('with stream: true sends the answer as step-tokens events while it comes, never a secret split across chunks', async () => {
    server = await startOpenAIServer([{ content: 'The door says open sesame to all' }]);
    const dir = workspace(`name: streamed
secrets: [DOOR]
steps:
  - id: ask
    type: ai
    config: { model: gpt-4o-mini, prompt: "What does the door say?", stream: true }
`);
    const r = await flowAsync(['run', 'w.yaml', '--json'], dir, { ...env(server), DOOR: 'open sesame' });
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; text?: string });
    const tokens = events.filter((e) => e.type === 'step-tokens').map((e) => e.text);
    // One event per piece the server sent, but the piece that could start the secret waited for the next.
    expect(tokens).toEqual(['The ', 'door ', 'says ', '*** ', 'to ', 'all']);
    expect(events.filter((e) => e.type === 'step-output').map((e) => e.text)).toEqual(['The door says *** to all\n']);
    expect(r.stdout).not.toContain('open');
  });

  it('is never retried when the quota is used up: exit 1, class ai:quota, one request', async () => {
    server = await startOpenAIServer([{ status: 429, error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } }]);
    const r = await flowAsync(['run', 'w.yaml'], workspace(CLASSIFY), env(server));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[classify\] failed in \d+ms: ai:quota: the API quota is used up/);
    expect(server.requests).toHaveLength(1);
  });

  it('is not asked again when a run killed after it is resumed', async () => {
    server = await startOpenAIServer([{ content: 'spam' }]);
    const dir = tempDir('flow-ai-');
    writeFileSync(join(dir, 'w.yaml'), CLASSIFY);
    const child = spawn(process.execPath, [FLOW_BIN, 'run', 'w.yaml'], {
      cwd: dir,
      env: { ...process.env, ...env(server), NO_COLOR: '1', GITHUB_ACTIONS: '' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/\[after\] started/.test(stderr)) child.kill('SIGKILL');
    });
    await new Promise((resolve) => child.on('close', resolve));
    expect(server.requests).toHaveLength(1);
    writeFileSync(join(dir, 'done'), '');
    const resumed = await flowAsync(['resume', runIdOf(stderr)], dir, env(server));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual({ label: 'spam' });
    expect(server.requests).toHaveLength(1);
  });

  it('with cache: is answered from the cache in a later run, unless the endpoint differs', async () => {
    server = await startOpenAIServer([{ content: 'spam' }]);
    const other = await startOpenAIServer([{ content: 'ham' }]);
    try {
      const dir = workspace(CLASSIFY.replace('    type: ai\n', '    type: ai\n    cache: { ttl: 1h }\n'));
      for (let i = 0; i < 2; i++) expect((await flowAsync(['run', 'w.yaml'], dir, env(server))).code).toBe(0);
      expect(server.requests).toHaveLength(1);
      // An answer from the cache cost nothing: the summary counts no call.
      const cached = await flowAsync(['run', 'w.yaml'], dir, env(server));
      expect(cached.stderr).toContain('1 cached');
      expect(cached.stderr).not.toContain('ai: ');
      const elsewhere = await flowAsync(['run', 'w.yaml'], dir, env(other));
      expect(JSON.parse(elsewhere.stdout)).toEqual({ label: 'ham' });
      expect(other.requests).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('workflows/document-triage.yaml classifies with a schema and routes on the answer; its fallback answers when the model is down', async () => {
    const answer = { category: 'invoice', urgent: true, summary: 'An overdue invoice from Acme, final notice.' };
    server = await startOpenAIServer((req) =>
      req.body.model === 'gpt-4o-mini'
        ? { status: 503, error: { message: 'overloaded' } }
        : { content: JSON.stringify(answer), usage: { prompt_tokens: 200, completion_tokens: 30 } },
    );
    const dir = tempDir('flow-ai-');
    const triage = join(import.meta.dirname, '..', '..', 'workflows', 'document-triage.yaml');
    const r = await flowAsync(['run', triage], dir, env(server));
    expect(r.code, r.stderr).toBe(0);
    // Answered by gpt-4.1-mini, at $0.40 / $1.60 per million tokens.
    expect(JSON.parse(r.stdout)).toEqual({ category: 'invoice', urgent: true, cost: 0.000128 });
    // The attempt record says which model answered; the events do too (--json gives the same ai field).
    const show = JSON.parse((await flowAsync(['show', runIdOf(r.stderr), '--json'], dir)).stdout) as {
      steps: { id: string; ai: unknown }[];
    };
    expect(show.steps.find((s) => s.id === 'classify')!.ai).toMatchObject({ calls: 1, models: ['gpt-4.1-mini'] });
    expect(r.stderr).toContain('[escalate] | URGENT (invoice): An overdue invoice from Acme, final notice.');
    expect(r.stderr).toContain('model gpt-4o-mini failed (http:503); asking gpt-4.1-mini');
    expect(server.requests.map((q) => q.body.model)).toEqual(['gpt-4o-mini', 'gpt-4.1-mini']);
    expect(server.requests[0]!.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { strict: true } });
    const filed = readdirSync(join(dir, 'out', 'invoices'));
    expect(JSON.parse(readFileSync(join(dir, 'out', 'invoices', filed[0]!), 'utf8'))).toEqual(answer);
  });

  it('masks the API key everywhere, also when the server echoes it in an error and the workflow lists no secret', async () => {
    const key = 'sk-live-4f1c2e9a7b';
    server = await startOpenAIServer([{ status: 401, error: { message: `Incorrect API key provided: Bearer ${key}` } }]);
    const dir = workspace(CLASSIFY);
    const r = await flowAsync(['run', 'w.yaml'], dir, { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: key });
    expect(r.code).toBe(1);
    expect(server.requests[0]!.headers['authorization']).toBe(`Bearer ${key}`);
    expect(r.stderr).toContain('Incorrect API key provided: Bearer ***');
    const state = readFileSync(join(dir, '.flow', 'state.db')).toString('latin1');
    const walFile = join(dir, '.flow', 'state.db-wal');
    const wal = existsSync(walFile) ? readFileSync(walFile).toString('latin1') : '';
    for (const text of [r.stdout, r.stderr, state, wal]) expect(text).not.toContain(key);
  });
});
