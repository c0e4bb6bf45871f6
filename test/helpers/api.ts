import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { openApiDocument } from '../../src/server/openapi.js';

// Talking to `flow serve` as a client does (fetch over real HTTP), and checking each answer against the
// OpenAPI document the server publishes: the contract test's one validator.

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

export async function call(base: string, path: string, init: RequestInit & { token?: string } = {}): Promise<Answer> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(`${base}${path}`, { ...rest, headers, redirect: 'manual' });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: type.includes('json') ? JSON.parse(text) : text };
}

const document = openApiDocument() as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
};
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: 'urn:flow:openapi', components: document.components }, 'openapi');
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

function validatorFor(schema: unknown): ReturnType<typeof ajv.compile> {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    // The document's refs (#/components/...) point into the document registered above.
    const rewritten = JSON.parse(key.replaceAll('"#/components/', '"urn:flow:openapi#/components/'));
    v = ajv.compile(rewritten);
    validators.set(key, v);
  }
  return v;
}

/** The answer is one the document promises for this route (its template, as in `paths`), method and status. */
export function expectDocumented(route: string, method: string, answer: Answer): void {
  const responses = document.paths[route]?.[method.toLowerCase()]?.responses;
  expect(responses, `${method} ${route} is not in the OpenAPI document`).toBeDefined();
  const response = responses![String(answer.status)];
  expect(response, `${method} ${route} does not document status ${answer.status}`).toBeDefined();
  const type = (answer.headers.get('content-type') ?? '').split(';')[0]!;
  const content = response!.content?.[type];
  expect(content, `${method} ${route} ${answer.status} does not document ${type}`).toBeDefined();
  const validate = validatorFor(content!.schema);
  expect(validate(answer.body), JSON.stringify(validate.errors)).toBe(true);
}

/** Each event line against the document's Event schema (schema/events.schema.json). */
export function expectEvent(line: unknown): void {
  const validate = validatorFor({ $ref: '#/components/schemas/Event' });
  expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
}

export interface SseMessage {
  event: string | undefined;
  id: string | undefined;
  data: string;
}

/** Reads a server-sent event stream until `stop` says enough (or the stream ends), then disconnects. */
export async function readEvents(
  url: string,
  headers: Record<string, string>,
  stop: (messages: SseMessage[]) => boolean,
  timeoutMs = 20_000,
): Promise<SseMessage[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const messages: SseMessage[] = [];
  try {
    const res = await fetch(url, { headers, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const message: SseMessage = { event: undefined, id: undefined, data: '' };
        let isComment = true;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          isComment = false;
          const [field, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (field === 'event') message.event = value;
          else if (field === 'id') message.id = value;
          else if (field === 'data') message.data += value;
        }
        if (!isComment) messages.push(message);
        if (stop(messages)) return messages;
      }
    }
    return messages;
  } catch (err) {
    if (controller.signal.aborted)
      throw new Error(`the event stream did not give what was awaited in ${timeoutMs} ms: ${JSON.stringify(messages).slice(0, 2000)}`);
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
