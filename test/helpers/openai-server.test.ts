import OpenAI, {
  APIConnectionError,
  APIError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';
import { type OpenAIServer, type ReplyPlan, startOpenAIServer } from './openai-server.js';

// Every test drives the real `openai` SDK over HTTP: the server is only useful if the SDK reads it as OpenAI.

const servers: OpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(reply?: ReplyPlan, options: { timeout?: number } = {}) {
  const server = await startOpenAIServer(reply);
  servers.push(server);
  return { server, client: new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, ...options }) };
}

const ask = (content = 'say hello please') => ({ model: 'gpt-test', messages: [{ role: 'user' as const, content }] });

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the call should have failed'),
    (err: unknown) => err,
  );
}

describe('openai test server through the real SDK', () => {
  it('answers a plain call with the content, the model echoed and usage counted in words', async () => {
    const { server, client } = await setup([{ content: 'Hello there, friend.' }]);
    const completion = await client.chat.completions.create(ask());
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-test');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Hello there, friend.', refusal: null });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({
      prompt_tokens: 3,
      completion_tokens: 3,
      total_tokens: 6,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test');
  });

  it('streams the content in several chunks and ends with a usage-only chunk when include_usage is set', async () => {
    const { client } = await setup([
      { content: 'One two three four.', usage: { prompt_tokens: 11, completion_tokens: 7, cached_tokens: 5 } },
    ]);
    const chunks = await collect(await client.chat.completions.create({ ...ask(), stream: true, stream_options: { include_usage: true } }));
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('One two three four.');
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, prompt_tokens_details: { cached_tokens: 5 } });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('sends no usage at all when usage is null, in both modes', async () => {
    const { client } = await setup([{ content: 'no count', usage: null }]);
    const completion = await client.chat.completions.create(ask());
    expect(completion.choices[0]?.message.content).toBe('no count');
    expect(completion).not.toHaveProperty('usage');
    const chunks = await collect(await client.chat.completions.create({ ...ask(), stream: true, stream_options: { include_usage: true } }));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('no count');
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it('answers 429 with retry-after-ms: the SDK raises RateLimitError with the headers and the error fields', async () => {
    const { server, client } = await setup([
      { status: 429, headers: { 'retry-after-ms': '20' }, error: { message: 'Slow down.', type: 'requests', code: 'rate_limit_exceeded' } },
    ]);
    const err = await failure(client.chat.completions.create(ask()));
    expect(err).toBeInstanceOf(RateLimitError);
    const rate = err as RateLimitError;
    expect(rate.status).toBe(429);
    expect(rate.headers.get('retry-after-ms')).toBe('20');
    expect(rate.code).toBe('rate_limit_exceeded');
    expect(rate.type).toBe('requests');
    expect(rate.message).toBe('429 Slow down.');
    expect(server.requests).toHaveLength(1);
  });

  it('answers 500 as an InternalServerError of type server_error', async () => {
    const { client } = await setup([{ status: 500, error: { message: 'The server had an error.' } }]);
    const err = await failure(client.chat.completions.create(ask()));
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).type).toBe('server_error');
    expect((err as InternalServerError).message).toBe('500 The server had an error.');
  });

  it('sends a refusal instead of content, plain and streamed (the SDK stream helper assembles it)', async () => {
    const { client } = await setup([{ refusal: "I can't help with that." }]);
    const completion = await client.chat.completions.create(ask());
    expect(completion.choices[0]?.message).toMatchObject({ content: null, refusal: "I can't help with that." });
    const final = await client.chat.completions.stream(ask()).finalChatCompletion();
    expect(final.choices[0]?.message.refusal).toBe("I can't help with that.");
    expect(final.choices[0]?.message.content).toBeNull();
  });

  it('reports finish_reason length, plain and streamed', async () => {
    const { client } = await setup([{ content: 'cut off mid', finishReason: 'length' }]);
    expect((await client.chat.completions.create(ask())).choices[0]?.finish_reason).toBe('length');
    const chunks = await collect(await client.chat.completions.create({ ...ask(), stream: true }));
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['length']);
  });

  it('a delay beyond the SDK timeout gives APIConnectionTimeoutError, and the server stops waiting', async () => {
    const { server, client } = await setup([{ delayMs: 10_000, content: 'too late' }], { timeout: 100 });
    const started = Date.now();
    const err = await failure(client.chat.completions.create(ask()));
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
    await server.idle();
    expect(server.requests[0]?.outcome).toBe('abandoned');
    await server.close();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a stalled body outlives the SDK timeout (it covers only the wait for headers); an abort signal ends it', async () => {
    const { server, client } = await setup([{ content: 'never finished', partial: 'stall' }], { timeout: 50 });
    const signal = AbortSignal.timeout(300);
    const started = Date.now();
    const chunks = await collect(await client.chat.completions.create({ ...ask(), stream: true }, { signal }));
    // The SDK ends an aborted stream's iteration quietly: no error, only the chunks that arrived.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(signal.aborted).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'never ']);
    await server.idle();
    expect(server.requests[0]?.outcome).toBe('abandoned');
    // Aborted while reading a plain body, the SDK lets the raw DOMException through (APIUserAbortError only before headers).
    const plain = await failure(client.chat.completions.create(ask(), { signal: AbortSignal.timeout(100) }));
    expect(plain).toMatchObject({ name: 'AbortError' });
    expect(plain).not.toBeInstanceOf(APIError);
    const early = new AbortController();
    early.abort();
    expect(await failure(client.chat.completions.create(ask(), { signal: early.signal }))).toBeInstanceOf(APIUserAbortError);
  });

  it('a stream cut after its start fails with a bare TypeError; one ended early looks complete but has no finish_reason', async () => {
    const { server, client } = await setup([
      { content: 'cut short here', partial: 'hang-up' },
      { content: 'ended short here', partial: 'end' },
    ]);
    const seen: string[] = [];
    const cut = await failure(
      (async () => {
        for await (const chunk of await client.chat.completions.create({ ...ask(), stream: true }))
          seen.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    );
    expect(seen).toEqual(['', 'cut ']);
    expect(cut).toBeInstanceOf(TypeError);
    expect(cut).not.toBeInstanceOf(APIConnectionError);
    expect(server.requests[0]?.outcome).toBe('hung-up');
    const ended = await collect(await client.chat.completions.create({ ...ask(), stream: true }));
    expect(ended.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'ended ']);
    expect(ended.every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
  });

  it('hangUp cuts the connection: the SDK raises APIConnectionError (not a timeout)', async () => {
    const { server, client } = await setup([{ hangUp: true }]);
    const err = await failure(client.chat.completions.create(ask()));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.requests[0]?.outcome).toBe('hung-up');
  });

  it('records every request body and uses a reply list in order, repeating its last entry', async () => {
    const { server, client } = await setup([{ content: 'first' }, { content: 'then' }]);
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false };
    const response_format = { type: 'json_schema' as const, json_schema: { name: 'answer', schema, strict: true } };
    const contents: (string | null | undefined)[] = [];
    for (const model of ['m1', 'm2', 'm3']) {
      const completion = await client.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'is it ok?' },
        ],
        response_format,
        max_tokens: 50,
      });
      contents.push(completion.choices[0]?.message.content);
    }
    expect(contents).toEqual(['first', 'then', 'then']);
    await server.idle();
    expect(server.requests.map((r) => [r.method, r.path, r.outcome])).toEqual([
      ['POST', '/v1/chat/completions', 'answered'],
      ['POST', '/v1/chat/completions', 'answered'],
      ['POST', '/v1/chat/completions', 'answered'],
    ]);
    expect(server.requests[1]?.body).toEqual({
      model: 'm2',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'is it ok?' },
      ],
      response_format,
      max_tokens: 50,
    });
  });

  it('answers other paths with a 404 error body', async () => {
    const { client } = await setup();
    const err = await failure(client.models.list());
    expect(err).toMatchObject({ status: 404, code: 'unknown_url', type: 'invalid_request_error' });
  });
});
