import { renderValues } from '../engine/expressions.js';
import { StepFailure } from '../engine/step-failure.js';
import { orExpression, ref, stringMap, strictObject } from '../language/schema/json-schema.js';
import { parseDuration } from '../language/durations.js';
import type { Executor } from './executor.js';

const status = { type: 'integer', minimum: 100, maximum: 599 };
const MAX_BODY_BYTES = 10 * 1024 * 1024;
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export const httpExecutor: Executor = {
  type: 'http',
  aliases: ['integration'],
  summary: 'One HTTP request; JSON bodies are parsed.',
  configRequired: true,
  configSchema: strictObject(
    {
      method: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
      url: { type: 'string', minLength: 1, description: 'With `service`, relative to its base_url.' },
      service: { type: 'string', minLength: 1, description: 'A name under the top-level `services:`.' },
      path: { type: 'string', minLength: 1, description: 'With `service`: the URL relative to its base_url.' },
      headers: stringMap(),
      query: stringMap({ type: ['string', 'number', 'boolean'] }),
      json: { description: 'A value sent as a JSON body.' },
      body: { type: 'string' },
      expect_status: orExpression({ anyOf: [status, { type: 'array', items: status, minItems: 1 }] }),
      timeout: ref('duration'),
      follow_redirects: { type: 'boolean' },
    },
    {
      allOf: [{ not: { required: ['json', 'body'] } }, { not: { required: ['url', 'path'] } }],
      // `path` without `service` passes here: the semantic check names the missing service, not a missing url.
      if: { anyOf: [{ required: ['service'] }, { required: ['path'] }] },
      then: { anyOf: [{ required: ['url'] }, { required: ['path'] }] },
      else: { required: ['url'] },
    },
  ),

  async execute(config, context) {
    const method = String(config['method'] ?? (config['json'] !== undefined || config['body'] !== undefined ? 'POST' : 'GET'));
    // `base_url` comes from the step's service (build-model applies it); a step cannot write it.
    const target = config['base_url'] === undefined ? String(config['url']) : serviceUrl(String(config['base_url']), String(config['url']));
    const url = buildUrl(target, config['query']);
    const headers = new Headers(renderValues(config['headers']));
    let body: string | undefined;
    if (config['json'] !== undefined) {
      body = JSON.stringify(config['json']);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    } else if (config['body'] !== undefined) body = String(config['body']);
    // The same key on every attempt and resume lets the server drop a request it has already done.
    if (method !== 'GET' && method !== 'HEAD' && !headers.has('idempotency-key')) headers.set('idempotency-key', context.idempotencyKey);
    const timeoutMs = typeof config['timeout'] === 'string' ? parseDuration(config['timeout']) : undefined;
    // A timer we hold ourselves: node 20 can collect an AbortSignal.timeout() inside AbortSignal.any() before it fires.
    const timeout = new AbortController();
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => timeout.abort(new StepFailure('timeout', `${method} ${url} timed out after ${config['timeout']}`)), timeoutMs);
    const signal = AbortSignal.any([context.signal, timeout.signal]);
    const failure = (err: unknown): unknown => {
      if (context.signal.aborted) return context.signal.reason;
      if (timeout.signal.aborted) return timeout.signal.reason;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return new StepFailure('network', `${method} ${url} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    };
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal,
        redirect: config['follow_redirects'] === false ? 'manual' : 'follow',
      });
      text = await readBody(response);
    } catch (err) {
      throw failure(err);
    } finally {
      if (timer) clearTimeout(timer);
    }
    const output: Record<string, unknown> = { status: response.status, headers: Object.fromEntries(response.headers), body: text };
    const json = parseJson(text, response.headers.get('content-type'));
    if (json !== undefined) output['json'] = json;
    if (!expected(config['expect_status'], response.status)) {
      const retryAfter = response.status === 429 || response.status === 503 ? retryAfterMs(response.headers.get('retry-after')) : undefined;
      throw new StepFailure(
        `http:${response.status}`,
        `${method} ${url} answered ${response.status} ${response.statusText}`.trim(),
        output,
        retryAfter,
      );
    }
    return output;
  },
};

function buildUrl(base: string, query: unknown): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(renderValues(query))) url.searchParams.append(k, v);
  return url.toString();
}

/**
 * `relative` resolved under `base`, keeping the base's path: `https://api.example.com/v2` with `customers` or
 * `/customers` gives `https://api.example.com/v2/customers`. An absolute URL is refused: it would carry the
 * service's headers, and so its credentials, to another host.
 */
export function serviceUrl(base: string, relative: string): string {
  if (/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(relative))
    throw new StepFailure('validation', `url '${relative}' must be relative to the service's base_url, not absolute`);
  let root: URL;
  try {
    root = new URL(base);
  } catch {
    throw new StepFailure('validation', `the service's base_url '${base}' is not an absolute URL`);
  }
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  return new URL(relative.replace(/^\/+/, ''), root).toString();
}

function expected(spec: unknown, status: number): boolean {
  if (spec === undefined || spec === null) return status >= 200 && status < 300;
  return (Array.isArray(spec) ? spec : [spec]).map(Number).includes(status);
}

/** Reads at most MAX_BODY_BYTES, counting (not keeping) the rest, so a huge response cannot fill memory. */
export async function readBody(response: Response, limit = MAX_BODY_BYTES): Promise<string> {
  if (!response.body) return '';
  const kept: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  for await (const chunk of response.body) {
    const bytes = Buffer.from(chunk as Uint8Array);
    const room = limit - size;
    if (room > 0) {
      kept.push(room >= bytes.byteLength ? bytes : bytes.subarray(0, room));
      size += Math.min(room, bytes.byteLength);
    }
    dropped += Math.max(0, bytes.byteLength - Math.max(room, 0));
  }
  const text = Buffer.concat(kept).toString('utf8');
  return dropped > 0 ? `${text}\n[flow: body truncated; ${dropped} more bytes not kept]` : text;
}

function parseJson(text: string, contentType: string | null): unknown {
  const looksJson = contentType?.includes('json') || /^\s*[[{]/.test(text);
  if (!looksJson) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds or as an HTTP date; bounded so a hostile server cannot park a run for days. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS) : undefined;
}
