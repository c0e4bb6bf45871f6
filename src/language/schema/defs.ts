import { orExpression, ref, stringMap, strictObject, type JsonSchema } from './json-schema.js';

export const STEP_ID_PATTERN = '^[a-z][a-z0-9_]*$';
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$';
export const EXPRESSION_PATTERN = '^\\s*\\$\\{\\{[\\s\\S]*\\}\\}\\s*$';
export const ERROR_CLASS_PATTERN = '^(any|timeout|network|exit:([0-9]+|any)|http:([1-5][0-9][0-9]|[1-5]xx)|ai:(refusal|length|schema))$';
export const MODEL_CAPABILITIES = ['json_schema', 'tools', 'vision', 'streaming', 'long_context'] as const;

// Shared definitions, referenced as #/$defs/<name> from the workflow schema and the executors' schemas.
export const sharedDefs: Record<string, JsonSchema> = {
  step_id: { type: 'string', pattern: STEP_ID_PATTERN, description: 'Unique across the file: lower case, digits, underscores.' },
  duration: { type: 'string', pattern: DURATION_PATTERN, description: 'A number with a unit: 500ms, 30s, 5m, 2h, 1d (or 1h30m).' },
  expression: { type: 'string', pattern: EXPRESSION_PATTERN, description: 'One ${{ }} expression.' },
  env: stringMap({ type: ['string', 'number', 'boolean'] }),
  model_capability: { enum: [...MODEL_CAPABILITIES] },
  retry: strictObject({
    max_attempts: { type: 'integer', minimum: 1, maximum: 100 },
    backoff: { enum: ['constant', 'exponential'] },
    initial_delay: ref('duration'),
    max_delay: ref('duration'),
    jitter: { enum: ['full', 'none', true, false], description: 'full (or true): a random delay up to the computed one.' },
    on: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: ERROR_CLASS_PATTERN },
      description: 'Error classes to retry: exit:N, timeout, http:429, http:5xx, network, any.',
    },
  }),
  cache: {
    anyOf: [
      { type: 'boolean' },
      strictObject({ ttl: ref('duration'), key: { type: 'string', description: 'Extra text mixed into the cache key.' } }),
    ],
  },
  on_error: {
    anyOf: [{ enum: ['fail', 'continue'] }, strictObject({ fallback: ref('step_id') }, { required: ['fallback'] })],
  },
  input: strictObject({
    type: { enum: ['string', 'number', 'integer', 'boolean', 'object', 'array'] },
    required: { type: 'boolean' },
    default: {},
    enum: { type: 'array', minItems: 1 },
    description: { type: 'string' },
    secret: { type: 'boolean', description: 'Mask the value in every output, log and the state file.' },
  }),
  model: strictObject({
    provider: { type: 'string' },
    base_url: { type: 'string' },
    api_key_env: { type: 'string' },
    capabilities: { type: 'array', items: ref('model_capability') },
    context_window: { type: 'integer', minimum: 1 },
    cost_per_1k_input: { type: 'number', minimum: 0 },
    cost_per_1k_output: { type: 'number', minimum: 0 },
    cost_per_1k_cached_input: { type: 'number', minimum: 0 },
  }),
  service: strictObject(
    {
      base_url: { type: 'string', minLength: 1, description: 'Where relative step URLs are resolved; its path is kept.' },
      headers: stringMap({ type: 'string', description: 'Sent with every request; the only place a service may read secrets.' }),
      timeout: ref('duration'),
      retry: ref('retry'),
    },
    { required: ['base_url'] },
  ),
  for_each: orExpression({ type: 'array' }),
  if: { type: ['string', 'boolean'], description: 'An expression, with or without ${{ }}; false skips the step.' },
};

/** Fields that every step form accepts. */
export const commonStepFields: Record<string, JsonSchema> = {
  id: ref('step_id'),
  name: { type: 'string' },
  if: ref('if'),
  env: ref('env'),
  timeout: ref('duration'),
  continue_on_error: { type: 'boolean' },
};

/** Fields that only action steps accept. */
export const actionStepFields: Record<string, JsonSchema> = {
  type: { type: 'string', minLength: 1, description: 'A built-in type (or alias) or a name under `executors`.' },
  config: { type: 'object' },
  retry: ref('retry'),
  on_error: ref('on_error'),
  cache: ref('cache'),
  for_each: ref('for_each'),
  max_concurrency: { type: 'integer', minimum: 1 },
  concurrency: strictObject(
    {
      key: { type: 'string', minLength: 1, description: 'Names the cap; may hold ${{ }} (a tenant, an API key name).' },
      limit: { type: 'integer', minimum: 1, description: 'At most this many attempts with the key at once.' },
    },
    {
      required: ['key', 'limit'],
      description: 'A cap shared by every run, local or --remote, that keeps its runs in the same store: across processes and machines.',
    },
  ),
  chunk: {
    type: 'integer',
    minimum: 1,
    description: 'Under --remote, a for_each sends its items to workers this many to a job (default 1).',
  },
  runs_on: {
    type: 'string',
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description: 'Under `flow run --remote`: the pool of workers (`flow worker --pool NAME`) that runs this step.',
  },
  outputs: {
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    description: 'Named values computed from the step result (`output`).',
  },
};
