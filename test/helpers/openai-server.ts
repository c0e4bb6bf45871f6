import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small OpenAI-compatible Chat Completions server for tests: POST /v1/chat/completions only, answered
// in the wire format the real `openai` SDK expects (JSON objects, or SSE chunks with `stream: true`), so
// the code under test talks to it exactly as it would to any OpenAI-compatible endpoint.

export interface ChatReply {
  /** Default 200; any other status sends an OpenAI-style error body. */
  status?: number;
  /** For a non-200 status; type defaults to 'server_error' (5xx) or 'invalid_request_error', code to null. */
  error?: { message: string; type?: string; code?: string };
  /** Sent on the answer, e.g. { 'retry-after-ms': '20' }. */
  headers?: Record<string, string>;
  /** The assistant message text; '' when neither content nor refusal is given. */
  content?: string;
  /** Sent as message.refusal (content null) instead of content. */
  refusal?: string;
  finishReason?: 'stop' | 'length' | 'content_filter' | 'tool_calls';
  /**
   * null: no usage at all (no field, no usage chunk), like providers that ignore stream_options.
   * Default: one token per whitespace-separated word, prompt_tokens over every message's text,
   * completion_tokens over the content or refusal; cached_tokens 0.
   */
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number } | null;
  /** Wait this long before answering (or hanging up); the wait ends early if the client goes away. */
  delayMs?: number;
  /** With `stream: true`: wait this long between the answer's chunks, as a model writing slowly does. */
  chunkDelayMs?: number;
  /** Destroy the socket instead of answering: the client sees a connection error. */
  hangUp?: boolean;
  /**
   * Send the status, headers and only the start of the body (a stream's first two chunks, half the JSON
   * otherwise), then 'stall' (send nothing more until the client goes away; the SDK's `timeout` does not
   * cover this), 'hang-up' (destroy the socket) or 'end' (end the response cleanly, truncated).
   */
  partial?: 'stall' | 'hang-up' | 'end';
}

/** The fields this server reads; every other field the client sent is kept as sent. */
export interface ChatRequestBody {
  model?: string;
  messages?: { role: string; content: unknown }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: unknown;
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; {} when the body is not a JSON object (see `text`). */
  body: ChatRequestBody;
  text: string;
  /** 'abandoned': the client closed the connection before the answer was sent (e.g. its timeout fired). */
  outcome: 'pending' | 'answered' | 'abandoned' | 'hung-up';
}

export interface OpenAIServer {
  /** http://127.0.0.1:PORT/v1: what OPENAI_BASE_URL / the SDK's baseURL take. */
  url: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Resolves once no request is pending (answered, abandoned by the client, or hung up on). */
  idle(): Promise<void>;
  /** Stops the server, cutting connections still open; calling it again returns the same promise. */
  close(): Promise<void>;
}

export type ReplyPlan = ChatReply[] | ((req: RecordedRequest, index: number) => ChatReply);

/** `reply` decides each answer from the request and its index in `requests`; a list is used in order, its last entry repeated. */
export async function startOpenAIServer(reply: ReplyPlan = [{}]): Promise<OpenAIServer> {
  const requests: RecordedRequest[] = [];
  const choose = (req: RecordedRequest, index: number): ChatReply =>
    typeof reply === 'function' ? reply(req, index) : (reply[Math.min(index, reply.length - 1)] ?? {});

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const parsed = parseObject(text);
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: parsed ?? {},
        text,
        outcome: 'pending',
      };
      const index = requests.push(recorded) - 1;
      // A response's 'close' before it finished means the client went away (abort, timeout).
      res.once('close', () => {
        if (recorded.outcome === 'pending') recorded.outcome = res.writableFinished ? 'answered' : 'abandoned';
      });
      if (recorded.method !== 'POST' || new URL(recorded.path, 'http://x').pathname !== '/v1/chat/completions') {
        return sendError(res, 404, { message: `Unknown request URL: ${recorded.method} ${recorded.path}.`, code: 'unknown_url' });
      }
      if (parsed === undefined) {
        return sendError(res, 400, { message: 'We could not parse the JSON body of your request.' });
      }
      let plan: ChatReply;
      try {
        plan = choose(recorded, index);
      } catch (err) {
        return sendError(res, 500, { message: `test reply failed: ${(err as Error).message}` });
      }
      const timer = setTimeout(() => answer(plan, recorded, index, res), plan.delayMs ?? 0);
      res.once('close', () => clearTimeout(timer));
    });
  });

  function answer(plan: ChatReply, recorded: RecordedRequest, index: number, res: ServerResponse): void {
    if (plan.hangUp) {
      recorded.outcome = 'hung-up';
      res.socket?.destroy();
      return;
    }
    const status = plan.status ?? 200;
    if (status !== 200) {
      sendError(res, status, plan.error ?? { message: `Test server error ${status}.` }, plan.headers);
      return;
    }
    const body = recorded.body;
    const head = { id: `chatcmpl-test${index}`, created: Math.floor(Date.now() / 1000), model: body.model ?? '' };
    const finish = plan.finishReason ?? 'stop';
    const usage = plan.usage === null ? undefined : usageOf(plan, body.messages);
    const headers = { 'x-request-id': `req_test${index}`, ...plan.headers };

    if (body.stream !== true) {
      const message = {
        role: 'assistant',
        content: plan.refusal === undefined ? (plan.content ?? '') : null,
        refusal: plan.refusal ?? null,
      };
      const completion = {
        ...head,
        object: 'chat.completion',
        choices: [{ index: 0, message: { ...message, annotations: [] }, finish_reason: finish, logprobs: null }],
        ...(usage ? { usage } : {}),
      };
      const json = JSON.stringify(completion);
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      send(plan, recorded, res, json, json.slice(0, json.length / 2));
      return;
    }

    // OpenAI marks every chunk `usage: null` when usage was asked for, then sends it alone in a last chunk with no choices.
    const withUsage = body.stream_options?.include_usage === true && usage !== undefined;
    const chunk = (choices: unknown[], extra: object = withUsage ? { usage: null } : {}) =>
      `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices, ...extra })}\n\n`;
    const delta = (d: object, finishReason: string | null = null) =>
      chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);
    const field = plan.refusal === undefined ? 'content' : 'refusal';
    const events = [delta(field === 'content' ? { role: 'assistant', content: '', refusal: null } : { role: 'assistant', refusal: '' })];
    for (const piece of pieces(plan.refusal ?? plan.content ?? '')) events.push(delta({ [field]: piece }));
    events.push(delta({}, finish));
    if (withUsage) events.push(chunk([], { usage }));
    events.push('data: [DONE]\n\n');
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    send(plan, recorded, res, events, events.slice(0, 2).join(''));
  }

  function send(plan: ChatReply, recorded: RecordedRequest, res: ServerResponse, whole: string | string[], start: string): void {
    if (Array.isArray(whole)) {
      if (plan.partial === undefined && plan.chunkDelayMs) return void dripFeed(res, whole, plan.chunkDelayMs);
      whole = whole.join('');
    }
    if (plan.partial === undefined) return void res.end(whole);
    if (plan.partial === 'end') return void res.end(start);
    if (plan.partial === 'stall') return void res.write(start);
    recorded.outcome = 'hung-up';
    // Destroyed only once the start is flushed, so the client sees it before the cut.
    res.write(start, () => res.socket?.destroy());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    idle: async () => {
      for (let i = 0; i < 500 && requests.some((r) => r.outcome === 'pending'); i++) await new Promise((r) => setTimeout(r, 10));
      if (requests.some((r) => r.outcome === 'pending')) throw new Error('openai test server: a request is still pending after 5 s');
    },
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Writes the chunks one by one, `delayMs` apart; stops when the client goes away. */
function dripFeed(res: ServerResponse, chunks: string[], delayMs: number): void {
  const next = (i: number) => {
    if (res.destroyed) return;
    if (i === chunks.length - 1) return void res.end(chunks[i]);
    res.write(chunks[i]);
    setTimeout(() => next(i + 1), delayMs);
  };
  next(0);
}

function sendError(
  res: ServerResponse,
  status: number,
  error: NonNullable<ChatReply['error']>,
  headers: Record<string, string> = {},
): void {
  const type = error.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message: error.message, type, param: null, code: error.code ?? null } }));
}

function usageOf(plan: ChatReply, messages: unknown) {
  const promptText = Array.isArray(messages) ? messages.map((m) => textOf((m as { content?: unknown })?.content)).join(' ') : '';
  const prompt = plan.usage?.prompt_tokens ?? words(promptText);
  const completion = plan.usage?.completion_tokens ?? words(plan.refusal ?? plan.content ?? '');
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: plan.usage?.cached_tokens ?? 0 },
  };
}

/** A message's text: a string, or the text parts of a content array. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => ((part as { type?: string })?.type === 'text' ? String((part as { text?: unknown }).text ?? '') : ''))
    .join(' ');
}

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

/** The text cut after each run of whitespace, so the pieces join back to it exactly. */
const pieces = (text: string): string[] => text.match(/\s*\S+\s*|\s+/g) ?? [];

function parseObject(text: string): ChatRequestBody | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ChatRequestBody) : undefined;
  } catch {
    return undefined;
  }
}
