import { afterEach, describe, expect, it } from 'vitest';
import { aiProcessingExecutor } from '../../src/executors/ai-processing.js';
import { type ChatReply, type OpenAIServer, startOpenAIServer } from '../helpers/openai-server.js';
import { stepContext } from '../helpers/step-context.js';
import { failure } from '../helpers/step-failure.js';

// The ai_processing executor through the real openai SDK against a real Chat Completions server on 127.0.0.1.

let server: OpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function call(replies: ChatReply[], config: Record<string, unknown>, extra: Parameters<typeof stepContext>[0] = {}) {
  server = await startOpenAIServer(replies);
  const context = stepContext({ env: { OPENAI_API_KEY: 'sk-test' }, ...extra });
  const run = aiProcessingExecutor.execute({ base_url: server.url, ...config }, context);
  return { run, context, server };
}

describe('ai_processing', () => {
  it('asks with system and prompt, and gives text, model, finish_reason, usage and cost', async () => {
    const { run, context, server } = await call(
      [{ content: 'spam', usage: { prompt_tokens: 1000, completion_tokens: 200, cached_tokens: 400 } }],
      {
        model: 'gpt-4o-mini',
        system: 'Classify the message.',
        prompt: 'WIN A PRIZE',
        temperature: 0,
        max_tokens: 5,
      },
    );
    expect(await run).toEqual({
      text: 'spam',
      model: 'gpt-4o-mini',
      finish_reason: 'stop',
      usage: { prompt_tokens: 1000, completion_tokens: 200, cached_tokens: 400, total_tokens: 1200 },
      // 600 fresh input tokens at $0.15/M, 400 cached at $0.075/M, 200 output at $0.60/M.
      cost: 0.00024,
    });
    expect(server.requests[0]!.body).toMatchObject({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Classify the message.' },
        { role: 'user', content: 'WIN A PRIZE' },
      ],
      temperature: 0,
      max_tokens: 5,
    });
    // The step named the endpoint and no api_key_env: the user's OpenAI key is not sent to it.
    expect(server.requests[0]!.headers['authorization']).toBe('Bearer none');
    expect(context.emitted).toEqual([{ stream: 'stdout', text: 'spam\n' }]);
  });

  it('sends OPENAI_API_KEY only where OPENAI_BASE_URL points; an endpoint the workflow names gets its api_key_env', async () => {
    server = await startOpenAIServer([{ content: 'a' }]);
    const env = { OPENAI_API_KEY: 'sk-user', OPENAI_BASE_URL: server.url, LOCAL_KEY: 'lk-1', OPENAI_ORG_ID: 'org-secret' };
    await aiProcessingExecutor.execute({ model: 'm', prompt: 'p' }, stepContext({ env }));
    await aiProcessingExecutor.execute({ model: 'm', prompt: 'p', base_url: server.url, api_key_env: 'LOCAL_KEY' }, stepContext({ env }));
    await aiProcessingExecutor.execute({ model: 'm', prompt: 'p', base_url: server.url }, stepContext({ env }));
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual(['Bearer sk-user', 'Bearer lk-1', 'Bearer none']);
    expect(server.requests.map((r) => r.headers['openai-organization'])).toEqual([undefined, undefined, undefined]);
  });

  it('never sends OPENAI_ADMIN_KEY, and OPENAI_CUSTOM_HEADERS only where OPENAI_API_KEY may go', async () => {
    server = await startOpenAIServer([{ content: 'a' }]);
    // The SDK reads these from the process environment itself, not from the step's.
    const saved = { admin: process.env['OPENAI_ADMIN_KEY'], headers: process.env['OPENAI_CUSTOM_HEADERS'] };
    process.env['OPENAI_ADMIN_KEY'] = 'sk-admin-secret';
    process.env['OPENAI_CUSTOM_HEADERS'] = 'X-Gateway-Token: gw-secret';
    try {
      const env = { OPENAI_API_KEY: 'sk-user', OPENAI_BASE_URL: server.url };
      await aiProcessingExecutor.execute({ model: 'm', prompt: 'p' }, stepContext({ env }));
      await aiProcessingExecutor.execute({ model: 'm', prompt: 'p', base_url: server.url }, stepContext({ env }));
    } finally {
      for (const [name, value] of [
        ['OPENAI_ADMIN_KEY', saved.admin],
        ['OPENAI_CUSTOM_HEADERS', saved.headers],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
    expect(server.requests.map((r) => r.headers['authorization'])).toEqual(['Bearer sk-user', 'Bearer none']);
    expect(server.requests.map((r) => r.headers['x-gateway-token'])).toEqual(['gw-secret', undefined]);
    expect(process.env['OPENAI_CUSTOM_HEADERS']).toBeUndefined();
  });

  it('refuses a base_url that is not an http(s) URL, as validation, before any call', async () => {
    const err = await failure(
      aiProcessingExecutor.execute({ model: 'm', prompt: 'p', base_url: 'htp://127.0.0.1:1/v1' }, stepContext({ env: {} })),
    );
    expect([err.errorClass, err.message]).toEqual(['validation', "base_url 'htp://127.0.0.1:1/v1' is not an http(s) URL"]);
  });

  it('caps a retry-after-ms past an hour at an hour', async () => {
    const { run } = await call([{ status: 429, headers: { 'retry-after-ms': '99999999999' } }], { model: 'm', prompt: 'p' });
    expect((await failure(run)).retryAfterMs).toBe(3_600_000);
  });

  it('streams the answer as output while it comes, and takes the usage from the last chunk', async () => {
    const content = 'one two three four five six seven';
    const { run, context, server } = await call([{ content, usage: { prompt_tokens: 3, completion_tokens: 7 } }], {
      model: 'gpt-4o-mini',
      prompt: 'count',
      stream: true,
    });
    const output = (await run) as { text: string; usage: unknown };
    expect(output.text).toBe(content);
    expect(output.usage).toEqual({ prompt_tokens: 3, completion_tokens: 7, cached_tokens: 0, total_tokens: 10 });
    expect(context.emitted.length).toBeGreaterThan(2);
    expect(context.emitted.map((e) => e.text).join('')).toBe(`${content}\n`);
    expect(server.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('gives a cost of null, never a guess, when the server sends no usage or the model has no price', async () => {
    const noUsage = await call([{ content: 'x', usage: null }], { model: 'gpt-4o-mini', prompt: 'p', stream: true });
    expect(await noUsage.run).toMatchObject({ usage: null, cost: null });
    await noUsage.server.close();
    const unpriced = await call([{ content: 'x' }], { model: 'llama3.2', prompt: 'p' });
    expect(await unpriced.run).toMatchObject({ model: 'llama3.2', cost: null });
  });

  it('without prompt or messages asks about what the step before gave', async () => {
    const { run, server } = await call([{ content: 'ok' }], { model: 'm' }, { previous: { title: 'Q3 report', pages: 12 } });
    await run;
    expect(server.requests[0]!.body.messages).toEqual([
      { role: 'user', content: JSON.stringify({ title: 'Q3 report', pages: 12 }, null, 2) },
    ]);
  });

  it('fails a 429 as http:429 with the wait the server asked for, and makes one request (the SDK retries nothing)', async () => {
    const { run, server } = await call([{ status: 429, headers: { 'retry-after-ms': '1500' }, error: { message: 'slow down' } }], {
      model: 'm',
      prompt: 'p',
    });
    const err = await failure(run);
    expect([err.errorClass, err.retryAfterMs]).toEqual(['http:429', 1500]);
    expect(err.message).toContain('slow down');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [{ status: 429, error: { message: 'You exceeded your quota', code: 'insufficient_quota' } }, 'ai:quota'],
    [{ status: 500, error: { message: 'boom' } }, 'http:500'],
    [{ status: 400, error: { message: 'bad model' } }, 'http:400'],
    [{ refusal: 'I cannot help with that' }, 'ai:refusal'],
    [{ finishReason: 'length', content: 'cut' }, 'ai:length'],
    [{ finishReason: 'content_filter', content: '' }, 'ai:refusal'],
    [{ hangUp: true }, 'network'],
  ] as [ChatReply, string][])('fails %j as %s', async (reply, errorClass) => {
    const { run, server } = await call([reply], { model: 'm', prompt: 'p' });
    expect((await failure(run)).errorClass).toBe(errorClass);
    expect(server.requests).toHaveLength(1);
  });

  it('times out on a slow answer and on a stream that stalls after its start', async () => {
    const slow = await call([{ delayMs: 5000, content: 'late' }], { model: 'm', prompt: 'p', timeout: '200ms' });
    expect((await failure(slow.run)).errorClass).toBe('timeout');
    await slow.server.close();
    const stalled = await call([{ partial: 'stall', content: 'a b c d e f' }], { model: 'm', prompt: 'p', stream: true, timeout: '200ms' });
    expect((await failure(stalled.run)).errorClass).toBe('timeout');
  });

  it('gives a schema re-ask the whole timeout again: the deadline is per call', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false };
    const { run, server } = await call(
      [
        { content: '{"ok":"yes"}', delayMs: 300 },
        { content: '{"ok":true}', delayMs: 300 },
      ],
      { model: 'm', prompt: 'p', response_schema: schema, timeout: '450ms' },
    );
    expect(await run).toMatchObject({ json: { ok: true } });
    expect(server.requests).toHaveLength(2);
  });

  it('fails a stream the server cut short, rather than taking half an answer', async () => {
    const { run } = await call([{ partial: 'end', content: 'a b c d e f' }], { model: 'm', prompt: 'p', stream: true });
    expect((await failure(run)).errorClass).toBe('network');
  });

  it('refuses to call OpenAI without a key, before any request; a local server needs none', async () => {
    const context = stepContext({ env: {} });
    const err = await failure(aiProcessingExecutor.execute({ model: 'gpt-4o-mini', prompt: 'p' }, context));
    expect([err.errorClass, err.message]).toEqual(['validation', expect.stringContaining('OPENAI_API_KEY is not set')]);
    const local = await call([{ content: 'hi' }], { model: 'llama3.2', prompt: 'p' }, { env: {} });
    expect(await local.run).toMatchObject({ text: 'hi' });
    expect(local.server.requests[0]!.headers['authorization']).toBe('Bearer none');
  });

  it('picks the first preferred model that has what the step requires, at the price it allows', async () => {
    const models = [{ name: 'local-small', capabilities: ['streaming'], cost_per_1k_input: 0 }];
    const { run, server } = await call(
      [{ content: '{}' }],
      { model: { prefer: ['local-small', 'gpt-4o', 'gpt-4o-mini'], requires: ['json_schema'], max_cost: 0.001 }, prompt: 'p' },
      { models },
    );
    await run;
    expect(server.requests[0]!.body.model).toBe('gpt-4o-mini');
  });

  describe('with response_schema', () => {
    const schema = {
      type: 'object',
      properties: { label: { enum: ['spam', 'ham'] }, confidence: { type: 'number' } },
      required: ['label', 'confidence'],
      additionalProperties: false,
    };

    it('asks for the schema (strict, as it is strict-compatible) and gives the answer parsed as json', async () => {
      const { run, server } = await call([{ content: '{"label":"spam","confidence":0.9}' }], {
        model: 'gpt-4o-mini',
        prompt: 'p',
        response_schema: schema,
      });
      expect(await run).toMatchObject({ json: { label: 'spam', confidence: 0.9 } });
      expect(server.requests[0]!.body.response_format).toEqual({
        type: 'json_schema',
        json_schema: { name: 'answer', schema, strict: true },
      });
    });

    it('sends a schema with optional properties in strict form, and takes out the nulls the server put in their place', async () => {
      const optional = { type: 'object', properties: { label: { type: 'string' }, note: { type: 'string' } }, required: ['label'] };
      const { run, server } = await call([{ content: '{"label":"spam","note":null}' }], {
        model: 'gpt-4o-mini',
        prompt: 'p',
        response_schema: optional,
      });
      expect(await run).toMatchObject({ json: { label: 'spam' } });
      expect(server.requests[0]!.body.response_format).toEqual({
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: {
            type: 'object',
            properties: { label: { type: 'string' }, note: { type: ['string', 'null'] } },
            required: ['label', 'note'],
            additionalProperties: false,
          },
        },
      });
    });

    it('sends an answer that breaks the schema back with what is wrong, once, and sums both calls’ usage', async () => {
      const { run, server } = await call(
        [
          { content: '{"label":"eggs"}', usage: { prompt_tokens: 10, completion_tokens: 2 } },
          { content: '{"label":"ham","confidence":0.5}', usage: { prompt_tokens: 30, completion_tokens: 4 } },
        ],
        { model: 'gpt-4o-mini', prompt: 'p', response_schema: schema },
      );
      expect(await run).toMatchObject({ json: { label: 'ham', confidence: 0.5 }, usage: { prompt_tokens: 40, completion_tokens: 6 } });
      const retold = server.requests[1]!.body.messages as { role: string; content: string }[];
      expect(retold.at(-2)).toEqual({ role: 'assistant', content: '{"label":"eggs"}' });
      expect(retold.at(-1)!.content).toMatch(/does not match the JSON schema: .*must have required property 'confidence'/);
    });

    it('reports each billed call as it is answered: a re-asked answer that then fails on a 503 still counts', async () => {
      const { run, context } = await call(
        [
          { content: '{"label":"eggs"}', usage: { prompt_tokens: 1000, completion_tokens: 20 } },
          { status: 503, error: { message: 'overloaded' } },
        ],
        { model: 'gpt-4o-mini', prompt: 'p', response_schema: schema },
      );
      expect((await failure(run)).errorClass).toBe('http:503');
      expect(context.modelCalls).toEqual([
        {
          model: 'gpt-4o-mini',
          usage: { prompt_tokens: 1000, completion_tokens: 20, cached_tokens: 0, total_tokens: 1020 },
          cost: 0.000162,
        },
      ]);
    });

    it('fails as ai:schema when the corrected answer is still wrong, and asks loosely for a schema strict mode cannot take', async () => {
      const loose = { type: 'object', properties: { label: { type: 'string' } }, additionalProperties: { type: 'string' } };
      const { run, server } = await call([{ content: 'not json' }], {
        model: 'gpt-4o-mini',
        prompt: 'p',
        response_schema: { ...loose, required: ['label'] },
      });
      const err = await failure(run);
      expect([err.errorClass, err.message]).toEqual(['ai:schema', 'the answer does not match response_schema: it is not JSON']);
      expect(server.requests).toHaveLength(2);
      expect((server.requests[0]!.body.response_format as { json_schema: { strict: boolean } }).json_schema.strict).toBe(false);
    });
  });

  describe('with a fallback chain', () => {
    const byModel = (replies: Record<string, ChatReply>) => (req: { body: { model?: string } }) => replies[req.body.model ?? ''] ?? {};

    it('asks the next model when one is down, and says which answered and which failed', async () => {
      server = await startOpenAIServer(
        byModel({ primary: { status: 503, error: { message: 'overloaded' } }, second: { status: 429 }, third: { content: 'ok' } }),
      );
      const context = stepContext({ env: { OPENAI_API_KEY: 'k' } });
      const output = await aiProcessingExecutor.execute(
        { base_url: server.url, model: 'primary', fallback: ['second', 'third'], prompt: 'p' },
        context,
      );
      expect(output).toMatchObject({
        text: 'ok',
        model: 'third',
        fallback_from: [
          { model: 'primary', error: expect.stringMatching(/^http:503: /) },
          { model: 'second', error: expect.stringMatching(/^http:429: /) },
        ],
      });
      expect(server.requests.map((r) => r.body.model)).toEqual(['primary', 'second', 'third']);
      expect(context.emitted).toContainEqual({ stream: 'stderr', text: 'model primary failed (http:503); asking second\n' });
    });

    it.each([
      [{ status: 400, error: { message: 'bad request' } }, 'http:400'],
      [{ refusal: 'no' }, 'ai:refusal'],
      [{ content: 'not json' }, 'ai:schema'],
    ] as [ChatReply, string][])('does not fall back on %j: the next model would be asked the same', async (reply, errorClass) => {
      server = await startOpenAIServer(byModel({ primary: reply, second: { content: '{}' } }));
      const config = {
        base_url: server.url,
        model: 'primary',
        fallback: ['second'],
        prompt: 'p',
        response_schema: { type: 'object' },
        schema_retries: 0,
      };
      const err = await failure(aiProcessingExecutor.execute(config, stepContext({ env: { OPENAI_API_KEY: 'k' } })));
      expect(err.errorClass).toBe(errorClass);
      expect(server.requests.map((r) => r.body.model)).toEqual(['primary']);
    });
  });

  it('keys a cached answer by the endpoint it came from, wherever it was named, and never by the API key', () => {
    const scope = aiProcessingExecutor.cacheScope!;
    expect(scope({ model: 'm' }, { OPENAI_BASE_URL: 'http://a/v1', OPENAI_API_KEY: 'sk-1' }, [])).toEqual({
      base_url: 'http://a/v1',
      model: 'm',
    });
    expect(scope({ model: 'm', base_url: 'http://b/v1' }, { OPENAI_BASE_URL: 'http://a/v1' }, [])).toEqual({
      base_url: 'http://b/v1',
      model: 'm',
    });
    expect(scope({ model: 'm' }, {}, [{ name: 'm', base_url: 'http://c/v1' }])).toEqual({ base_url: 'http://c/v1', model: 'm' });
    // A step that names no model asks FLOW_AI_MODEL's: another model's answer is another key.
    expect(scope({}, { FLOW_AI_MODEL: 'gpt-4.1' }, [])).toEqual({ base_url: 'https://api.openai.com/v1', model: 'gpt-4.1' });
    const selection = { prefer: ['local'], requires: [] };
    expect(scope({ model: selection }, {}, [{ name: 'local', base_url: 'http://d/v1' }])).toEqual({
      base_url: 'http://d/v1',
      model: 'local',
    });
    expect(JSON.stringify(scope({ model: 'm' }, { OPENAI_API_KEY: 'sk-1' }, []))).not.toContain('sk-1');
  });

  it('refuses a response_schema ajv cannot use before any call', async () => {
    const { run, server } = await call([{ content: '{}' }], { model: 'm', prompt: 'p', response_schema: { type: 'no-such-type' } });
    expect((await failure(run)).errorClass).toBe('validation');
    expect(server.requests).toHaveLength(0);
  });

  it('asks a reasoning model for max_completion_tokens, as OpenAI wants it, and says a 4xx once', async () => {
    const { run, server } = await call([{ status: 401, error: { message: 'bad key' } }], { model: 'o4-mini', prompt: 'p', max_tokens: 50 });
    expect((await failure(run)).message).toBe('the model API answered 401: bad key');
    expect(server.requests[0]!.body).toMatchObject({ max_completion_tokens: 50 });
    expect(server.requests[0]!.body).not.toHaveProperty('max_tokens');
  });
});
