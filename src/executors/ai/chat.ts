import type OpenAI from 'openai';
import { StepFailure } from '../../engine/step-failure.js';
import type { StepContext } from '../executor.js';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../http.js';
import { type Usage, costOf } from './models.js';
import { responseFormat } from './response-format.js';
import type { AiRequest } from './request.js';

/** What an AI step gives the steps after it. */
export interface AiOutput {
  text: string;
  model: string;
  finish_reason: string;
  usage: Usage | null;
  /** US dollars; null when unknown (no usage from the server, or no price for the model). */
  cost: number | null;
  /** With `response_schema`: the answer, parsed and checked against it. */
  json?: unknown;
  /** The models of the `fallback:` chain that failed before this one answered. */
  fallback_from?: { model: string; error: string }[];
}

// One call to a Chat Completions endpoint through the openai SDK, loaded only when an AI step runs. The SDK's own
// retries are off: the step's `retry:` is the one policy, so the layers never multiply.
export async function chat(
  request: AiRequest,
  context: Pick<StepContext, 'signal' | 'emitOutput' | 'emitTokens' | 'reportModelCall'>,
): Promise<AiOutput> {
  const sdk = await import('openai');
  const OpenAIClient = sdk.default;
  // Only what the step chose goes out: not OPENAI_ORG_ID or OPENAI_PROJECT_ID, never OPENAI_ADMIN_KEY (the SDK would
  // send it in place of the step's key), OPENAI_CUSTOM_HEADERS only where OPENAI_API_KEY may go; and no SDK log
  // lines on stdout, which holds the run's outputs.
  const client = withoutEnv(request.namedEndpoint ? ['OPENAI_CUSTOM_HEADERS'] : [], () => {
    return new OpenAIClient({
      baseURL: request.baseUrl,
      apiKey: request.apiKey,
      adminAPIKey: null,
      webhookSecret: null,
      maxRetries: 0,
      organization: null,
      project: null,
      logLevel: 'off',
    });
  });
  const asked = request.responseSchema && responseFormat(request.responseSchema);
  // A schema ajv cannot compile is the workflow's fault: found before the first (paid) call, not after it.
  const check = request.responseSchema && (await answerChecker(request.responseSchema));
  let messages = request.messages;
  const spent: Usage[] = [];
  // The SDK's timeout ends once the headers arrive; this one covers each call's whole answer, streamed or not: a
  // re-ask gets the time the first ask had.
  let signal = context.signal;
  let timer: NodeJS.Timeout | undefined;
  try {
    for (let tries = 0; ; tries++) {
      const limit = new AbortController();
      timer = setTimeout(
        () => limit.abort(new StepFailure('timeout', `no complete answer within ${request.timeoutMs} ms`)),
        request.timeoutMs,
      );
      signal = AbortSignal.any([context.signal, limit.signal]);
      const body = { model: request.model.name, messages, ...request.params, ...(asked ? { response_format: asked.format } : {}) };
      const answer = request.stream ? await streamed(client, body, signal, context) : await whole(client, body, signal);
      clearTimeout(timer);
      // Billed whatever follows: a re-ask that then fails, a refusal, a cut-off answer.
      context.reportModelCall({ model: answer.model, usage: answer.usage, cost: costOf(answer.usage, request.model) });
      if (signal.aborted) throw signal.reason;
      if (answer.usage) spent.push(answer.usage);
      const usage = spent.length === 0 ? null : sumUsage(spent);
      const output: AiOutput = {
        text: answer.text,
        model: answer.model,
        finish_reason: answer.finishReason,
        usage,
        cost: costOf(usage, request.model),
      };
      if (answer.refusal) throw new StepFailure('ai:refusal', `the model refused: ${answer.refusal}`, output);
      if (answer.finishReason === 'content_filter')
        throw new StepFailure('ai:refusal', "the provider's content filter withheld the answer (finish_reason: content_filter)", output);
      if (answer.finishReason === 'unknown') throw new StepFailure('network', 'the model API answered without a choice');
      if (answer.finishReason === 'length')
        throw new StepFailure('ai:length', 'the answer was cut off at max_tokens (finish_reason: length)', output);
      if (!request.stream && output.text !== '') context.emitOutput('stdout', `${output.text}\n`);
      if (!request.responseSchema) return output;
      const checked = check!(answer.text, asked!.restore);
      if (checked.ok) return { ...output, json: checked.json };
      if (tries >= request.schemaRetries)
        throw new StepFailure('ai:schema', `the answer does not match response_schema: ${checked.problems}`, output);
      // Asked again with what was wrong: a model corrects a near miss more often than it repeats it.
      messages = [
        ...messages,
        { role: 'assistant', content: answer.text },
        {
          role: 'user',
          content: `That answer does not match the JSON schema: ${checked.problems}. Answer again, with JSON that matches it.`,
        },
      ];
    }
  } catch (err) {
    throw failureOf(err, signal, sdk);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Builds with the named variables hidden from the environment: the SDK reads OPENAI_CUSTOM_HEADERS from it in its
 * constructor, and no option turns that off. Synchronous, so nothing else runs while they are hidden.
 */
function withoutEnv<T>(names: readonly string[], build: () => T): T {
  const saved = names.filter((n) => n in process.env).map((n) => [n, process.env[n]] as const);
  for (const [n] of saved) delete process.env[n];
  try {
    return build();
  } finally {
    for (const [n, v] of saved) process.env[n] = v;
  }
}

function sumUsage(all: Usage[]): Usage {
  const sum = (k: keyof Usage) => all.reduce((n, u) => n + u[k], 0);
  return {
    prompt_tokens: sum('prompt_tokens'),
    completion_tokens: sum('completion_tokens'),
    cached_tokens: sum('cached_tokens'),
    total_tokens: sum('total_tokens'),
  };
}

type AnswerCheck = (text: string, restore: (json: unknown) => unknown) => { ok: true; json: unknown } | { ok: false; problems: string };

async function answerChecker(schema: Record<string, unknown>): Promise<AnswerCheck> {
  // ajv is CommonJS: bundled, its class is the module's default export; run from source, a named one too.
  const ajv = (await import('ajv')) as unknown as { default: typeof import('ajv').Ajv };
  let validate: ReturnType<InstanceType<typeof import('ajv').Ajv>['compile']>;
  try {
    validate = new ajv.default({ allErrors: true, strict: false }).compile(schema);
  } catch (err) {
    throw new StepFailure('validation', `response_schema is not a JSON Schema ajv can use: ${(err as Error).message}`);
  }
  return (text, restore) => checkAnswer(text, restore, validate);
}

function checkAnswer(
  text: string,
  restore: (json: unknown) => unknown,
  validate: ReturnType<InstanceType<typeof import('ajv').Ajv>['compile']>,
): { ok: true; json: unknown } | { ok: false; problems: string } {
  let json: unknown;
  try {
    json = restore(JSON.parse(text));
  } catch {
    return { ok: false, problems: 'it is not JSON' };
  }
  if (validate(json)) return { ok: true, json };
  return { ok: false, problems: (validate.errors ?? []).map((e) => `${e.instancePath || '(the answer)'} ${e.message}`).join('; ') };
}

interface Answer {
  text: string;
  refusal: string | undefined;
  model: string;
  finishReason: string;
  usage: Usage | null;
}

type Body = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

async function whole(client: OpenAI, body: Omit<Body, 'stream'>, signal: AbortSignal): Promise<Answer> {
  const reply = await client.chat.completions.create({ ...body, stream: false } as Body, { signal });
  const choice = reply.choices[0];
  return {
    text: choice?.message.content ?? '',
    refusal: choice?.message.refusal ?? undefined,
    model: reply.model,
    finishReason: choice?.finish_reason ?? 'unknown',
    usage: usageOf(reply.usage),
  };
}

async function streamed(
  client: OpenAI,
  body: Omit<Body, 'stream'>,
  signal: AbortSignal,
  context: Pick<StepContext, 'emitOutput' | 'emitTokens'>,
): Promise<Answer> {
  const stream = await client.chat.completions.create(
    { ...body, stream: true, stream_options: { include_usage: true } } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming,
    { signal },
  );
  const answer: Answer = { text: '', refusal: undefined, model: body.model, finishReason: '', usage: null };
  for await (const chunk of stream) {
    answer.model = chunk.model || answer.model;
    if (chunk.usage) answer.usage = usageOf(chunk.usage);
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.delta.content) {
      answer.text += choice.delta.content;
      context.emitTokens(choice.delta.content);
    }
    if (choice.delta.refusal) answer.refusal = (answer.refusal ?? '') + choice.delta.refusal;
    if (choice.finish_reason) answer.finishReason = choice.finish_reason;
  }
  if (answer.text !== '' && !answer.text.endsWith('\n')) context.emitOutput('stdout', '\n');
  // The SDK ends the loop quietly when the stream is aborted or cut short: a stream without its end is a failure.
  if (!signal.aborted && answer.finishReason === '') throw new StepFailure('network', 'the answer stream ended before it was complete');
  return answer;
}

function usageOf(usage: OpenAI.Completions.CompletionUsage | null | undefined): Usage | null {
  if (!usage) return null;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    cached_tokens: cached,
    total_tokens: usage.total_tokens,
  };
}

/**
 * The error class a failed call gets, for `retry.on` and the record: `http:NNN` with the server's Retry-After,
 * `ai:quota` for an exhausted quota (never retried: waiting does not refill it), `timeout`, `network`.
 */
function failureOf(err: unknown, signal: AbortSignal, sdk: typeof import('openai')): unknown {
  if (err instanceof StepFailure) return err;
  if (signal.aborted) return signal.reason instanceof StepFailure ? signal.reason : new StepFailure('cancelled', 'the call was cancelled');
  const e = err as { status?: number; code?: string | null; message?: string; headers?: Headers; name?: string };
  if (e?.code === 'insufficient_quota') return new StepFailure('ai:quota', `the API quota is used up: ${e.message ?? ''}`.trim());
  if (typeof e?.status === 'number') {
    const ms = Number(e.headers?.get('retry-after-ms'));
    const wait = ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : retryAfterMs(e.headers?.get('retry-after') ?? null);
    const said = (e.message ?? '').replace(new RegExp(`^${e.status}\\s*`), '');
    return new StepFailure(`http:${e.status}`, `the model API answered ${e.status}: ${said}`.trim(), undefined, wait);
  }
  if (err instanceof sdk.APIConnectionTimeoutError) return new StepFailure('timeout', 'the model API did not answer in time');
  // The SDK's connection errors, and undici's "terminated" when a server cuts a stream. Anything else is not the
  // network's doing (a bug is not retried as if it were).
  if (err instanceof sdk.APIConnectionError || (err instanceof TypeError && e.message === 'terminated')) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return new StepFailure('network', `cannot reach the model API: ${e.message}${cause ? ` (${cause})` : ''}`);
  }
  // An error sent inside a stream (the server overloaded mid-answer) has no status: as passing as a 5xx.
  if (err instanceof sdk.APIError) return new StepFailure('network', `the model API failed while answering: ${e.message ?? ''}`.trim());
  return err;
}
