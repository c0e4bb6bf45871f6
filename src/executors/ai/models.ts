import type { ModelSpec } from '../../model/workflow.js';

/** A model as a step uses it: where it is served, what it can do, what it costs. */
export interface ModelInfo {
  name: string;
  baseUrl: string | undefined;
  apiKeyEnv: string | undefined;
  capabilities: readonly string[];
  /** US dollars per 1,000 tokens; undefined when not known (then cost is unknown, never guessed). */
  costPer1kInput: number | undefined;
  costPer1kOutput: number | undefined;
  costPer1kCachedInput: number | undefined;
}

/**
 * Common OpenAI models, with the prices OpenAI's pricing page (https://openai.com/api/pricing) gave per million
 * tokens when this table was written (2025); a workflow's `models:` entry of the same name overrides any field.
 */
const BUILT_IN: Record<string, Omit<ModelInfo, 'name' | 'baseUrl' | 'apiKeyEnv'>> = {
  'gpt-4': price(30, 60, 30, ['tools', 'streaming']),
  'gpt-4o-mini': price(0.15, 0.6, 0.075, ['json_schema', 'tools', 'vision', 'streaming']),
  'gpt-4o': price(2.5, 10, 1.25, ['json_schema', 'tools', 'vision', 'streaming']),
  'gpt-4.1': price(2, 8, 0.5, ['json_schema', 'tools', 'vision', 'streaming', 'long_context']),
  'gpt-4.1-mini': price(0.4, 1.6, 0.1, ['json_schema', 'tools', 'vision', 'streaming', 'long_context']),
  'gpt-4.1-nano': price(0.1, 0.4, 0.025, ['json_schema', 'tools', 'vision', 'streaming', 'long_context']),
  'o4-mini': price(1.1, 4.4, 0.275, ['json_schema', 'tools', 'vision', 'streaming']),
};

function price(inputPerM: number, outputPerM: number, cachedPerM: number, capabilities: string[]) {
  return { capabilities, costPer1kInput: inputPerM / 1000, costPer1kOutput: outputPerM / 1000, costPer1kCachedInput: cachedPerM / 1000 };
}

/** The model by name: the workflow's catalog entry over the built-in one; an unknown model has no price. */
export function modelInfo(name: string, catalog: readonly ModelSpec[]): ModelInfo {
  const own = catalog.find((m) => m.name === name);
  const known = BUILT_IN[name];
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    name,
    baseUrl: str(own?.['base_url']),
    apiKeyEnv: str(own?.['api_key_env']),
    capabilities: Array.isArray(own?.['capabilities']) ? (own['capabilities'] as string[]) : (known?.capabilities ?? []),
    costPer1kInput: num(own?.['cost_per_1k_input']) ?? known?.costPer1kInput,
    costPer1kOutput: num(own?.['cost_per_1k_output']) ?? known?.costPer1kOutput,
    costPer1kCachedInput: num(own?.['cost_per_1k_cached_input']) ?? num(own?.['cost_per_1k_input']) ?? known?.costPer1kCachedInput,
  };
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  total_tokens: number;
}

/** US dollars for one call; null when the server sent no usage or the model has no price. */
export function costOf(usage: Usage | null, model: ModelInfo): number | null {
  if (!usage || model.costPer1kInput === undefined || model.costPer1kOutput === undefined) return null;
  const cachedRate = model.costPer1kCachedInput ?? model.costPer1kInput;
  const fresh = usage.prompt_tokens - usage.cached_tokens;
  const dollars =
    (fresh * model.costPer1kInput + usage.cached_tokens * cachedRate + usage.completion_tokens * model.costPer1kOutput) / 1000;
  // Micro-dollars: enough for any sum of calls, free of binary-fraction noise in the record.
  return Math.round(dollars * 1e6) / 1e6;
}
