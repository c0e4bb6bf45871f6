import { orExpression, ref, strictObject } from '../language/schema/json-schema.js';
import { askWithFallbacks } from './ai/fallbacks.js';
import { endpointOf, modelOf } from './ai/request.js';
import type { Executor } from './executor.js';

const modelSelection = strictObject(
  {
    prefer: { type: 'array', items: { type: 'string' }, minItems: 1 },
    requires: { type: 'array', items: ref('model_capability') },
    max_cost: { type: 'number', minimum: 0 },
  },
  { required: ['prefer'] },
);

export const aiProcessingExecutor: Executor = {
  type: 'ai_processing',
  aliases: ['ai'],
  summary: 'One model call to an OpenAI-compatible endpoint; asks about `previous` when no prompt is given.',
  configRequired: false,
  configSchema: strictObject(
    {
      model: { anyOf: [{ type: 'string', minLength: 1 }, modelSelection] },
      base_url: { type: 'string' },
      api_key_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      system: { type: 'string' },
      prompt: { type: 'string' },
      messages: {
        type: 'array',
        minItems: 1,
        items: strictObject(
          { role: { enum: ['system', 'user', 'assistant'] }, content: { type: 'string' } },
          { required: ['role', 'content'] },
        ),
      },
      max_tokens: orExpression({ type: 'integer', minimum: 1 }),
      temperature: orExpression({ type: 'number', minimum: 0, maximum: 2 }),
      top_p: orExpression({ type: 'number', minimum: 0, maximum: 1 }),
      seed: orExpression({ type: 'integer' }),
      stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }] },
      response_schema: { type: 'object', description: 'JSON Schema the answer must satisfy; the output gains `json`.' },
      fallback: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 1,
        description: 'Models asked in turn when the one before fails on a rate limit, a 5xx, a timeout or the network.',
      },
      schema_retries: {
        type: 'integer',
        minimum: 0,
        maximum: 5,
        description: 'How often an answer that breaks response_schema is sent back (default 1).',
      },
      stream: { type: 'boolean' },
      timeout: ref('duration'),
    },
    { not: { required: ['prompt', 'messages'] } },
  ),
  // The endpoint a cached answer came from, wherever it was named; never the API key.
  cacheScope(config, env, models) {
    return { base_url: endpointOf(config, env, models) ?? 'https://api.openai.com/v1', model: modelOf(config, env, models)?.name ?? null };
  },

  async execute(config, context) {
    return askWithFallbacks(config, context);
  },
};
