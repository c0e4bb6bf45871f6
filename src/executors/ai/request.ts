import type { ModelSpec } from '../../model/workflow.js';
import { StepFailure } from '../../engine/step-failure.js';
import { parseDuration } from '../../language/durations.js';
import { type ModelInfo, modelInfo } from './models.js';

// What one AI step asks, from its resolved config: pure, so every rule is tested without a server.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface AiRequest {
  model: ModelInfo;
  /** The endpoint: the step's base_url, the model's, OPENAI_BASE_URL, or OpenAI's own. */
  baseUrl: string | undefined;
  /** The workflow named the endpoint (base_url, or its model's in models:): the user's OpenAI settings stay out of it. */
  namedEndpoint: boolean;
  apiKey: string;
  messages: ChatMessage[];
  /** Sampling parameters, as the API names them; only those the step set. */
  params: Record<string, unknown>;
  stream: boolean;
  timeoutMs: number;
  /** The JSON Schema the answer must satisfy, and how many times a wrong answer is sent back to be corrected. */
  responseSchema: Record<string, unknown> | undefined;
  schemaRetries: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const PARAMS = ['temperature', 'max_tokens', 'top_p', 'seed', 'stop'] as const;

export function aiRequest(
  config: Record<string, unknown>,
  env: Record<string, string | undefined>,
  catalog: readonly ModelSpec[],
  previous: unknown,
): AiRequest {
  const model = chooseModel(config['model'], env, catalog);
  const named = str(config['base_url']) ?? model.baseUrl;
  const baseUrl = named ?? str(env['OPENAI_BASE_URL']);
  if (baseUrl !== undefined && !/^https?:$/.test(safeUrl(baseUrl)?.protocol ?? ''))
    throw new StepFailure('validation', `base_url '${baseUrl}' is not an http(s) URL`);
  // OPENAI_API_KEY goes only where the environment sends requests (OpenAI, or OPENAI_BASE_URL): an endpoint the
  // workflow names gets the key its api_key_env names, or none, never the user's OpenAI key by default.
  const keyEnv = str(config['api_key_env']) ?? model.apiKeyEnv ?? (named === undefined ? 'OPENAI_API_KEY' : undefined);
  const key = keyEnv === undefined ? undefined : env[keyEnv];
  // OpenAI itself needs a key; a local server (Ollama, vLLM, llama.cpp) usually takes none.
  if (!key && baseUrl === undefined)
    throw new StepFailure('validation', `no API key: ${keyEnv} is not set (or give base_url for a server that needs none)`);
  const params: Record<string, unknown> = Object.fromEntries(PARAMS.filter((p) => config[p] !== undefined).map((p) => [p, config[p]]));
  // OpenAI's reasoning models (o1, o3, o4-mini, ...) refuse max_tokens and take max_completion_tokens instead.
  if (params['max_tokens'] !== undefined && /^o\d/.test(model.name)) {
    params['max_completion_tokens'] = params['max_tokens'];
    delete params['max_tokens'];
  }
  return {
    model,
    baseUrl,
    namedEndpoint: named !== undefined,
    apiKey: key || 'none',
    messages: messagesOf(config, previous),
    params,
    stream: config['stream'] === true,
    responseSchema: typeof config['response_schema'] === 'object' ? (config['response_schema'] as Record<string, unknown>) : undefined,
    schemaRetries: typeof config['schema_retries'] === 'number' ? config['schema_retries'] : 1,
    timeoutMs: (typeof config['timeout'] === 'string' ? parseDuration(config['timeout']) : undefined) ?? DEFAULT_TIMEOUT_MS,
  };
}

/** `messages` as given; else `system` and `prompt`; with neither, the model is asked about what the step before gave. */
export function messagesOf(config: Record<string, unknown>, previous: unknown): ChatMessage[] {
  if (Array.isArray(config['messages'])) return config['messages'] as ChatMessage[];
  const system = str(config['system']);
  const prompt = str(config['prompt']) ?? (typeof previous === 'string' ? previous : JSON.stringify(previous ?? null, null, 2));
  return [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: prompt }];
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The model a step names, or the first of a selection's `prefer` list that has every capability it `requires` and
 * costs at most `max_cost` per 1,000 input tokens (the catalog's figures over the built-in table's).
 */
export function chooseModel(model: unknown, env: Record<string, string | undefined>, catalog: readonly ModelSpec[]): ModelInfo {
  if (typeof model === 'string') return modelInfo(model, catalog);
  if (model === undefined) {
    const name = env['FLOW_AI_MODEL'];
    if (!name) throw new StepFailure('validation', 'no model: give the step a `model:` (or set FLOW_AI_MODEL for steps that name none)');
    return modelInfo(name, catalog);
  }
  const selection = model as { prefer: string[]; requires?: string[]; max_cost?: number };
  const fits = (m: ModelInfo) =>
    (selection.requires ?? []).every((c) => m.capabilities.includes(c)) &&
    (selection.max_cost === undefined || (m.costPer1kInput !== undefined && m.costPer1kInput <= selection.max_cost));
  const chosen = selection.prefer.map((name) => modelInfo(name, catalog)).find(fits);
  if (!chosen)
    throw new StepFailure(
      'validation',
      `no model of ${selection.prefer.join(', ')} has ${[...(selection.requires ?? []), ...(selection.max_cost === undefined ? [] : [`a price up to ${selection.max_cost} per 1k input tokens`])].join(', ')}`,
    );
  return chosen;
}

/** The endpoint a step calls, as aiRequest chooses it (undefined: OpenAI's own). */
export function endpointOf(
  config: Record<string, unknown>,
  env: Record<string, string | undefined>,
  catalog: readonly ModelSpec[],
): string | undefined {
  return str(config['base_url']) ?? modelOf(config, env, catalog)?.baseUrl ?? str(env['OPENAI_BASE_URL']);
}

/** The model a step asks first, as aiRequest chooses it; undefined when it cannot be chosen (the call will say why). */
export function modelOf(
  config: Record<string, unknown>,
  env: Record<string, string | undefined>,
  catalog: readonly ModelSpec[],
): ModelInfo | undefined {
  try {
    return chooseModel(config['model'], env, catalog);
  } catch {
    return undefined;
  }
}

/** The environment variables whose values are API keys an AI step may send: masked in every output of the run. */
export function apiKeyNames(config: Record<string, unknown>, catalog: readonly ModelSpec[]): string[] {
  const named = catalog.map((m) => m['api_key_env']).filter((n): n is string => typeof n === 'string');
  return [...new Set(['OPENAI_API_KEY', ...(typeof config['api_key_env'] === 'string' ? [config['api_key_env']] : []), ...named])];
}
