import { BUILTIN_EXECUTORS } from '../../executors/registry.js';
import { actionStepFields, commonStepFields, sharedDefs } from './defs.js';
import { ref, stringMap, strictObject, type JsonSchema } from './json-schema.js';

export const SCHEMA_ID = 'https://flow.dev/schema/workflow.schema.json';

export const configDefName = (type: string): string => `config_${type}`;

// Assembles the workflow language's JSON Schema from the shared definitions and each executor's config schema.
export function buildWorkflowSchema(): JsonSchema {
  const configDefs = Object.fromEntries(BUILTIN_EXECUTORS.map((e) => [configDefName(e.type), e.configSchema]));
  const stepsList: JsonSchema = { type: 'array', minItems: 1, items: ref('step') };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'flow workflow',
    description: 'A flow workflow file: `flow run FILE`.',
    ...strictObject(
      {
        name: { type: 'string' },
        version: { type: 'string', description: 'Quote it: "1.0".' },
        description: { type: 'string' },
        inputs: { type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, additionalProperties: ref('input') },
        secrets: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
        env: ref('env'),
        defaults: strictObject({
          timeout: ref('duration'),
          retry: ref('retry'),
          cache: ref('cache'),
          continue_on_error: { type: 'boolean' },
        }),
        timeout: ref('duration'),
        models: { type: 'object', additionalProperties: ref('model') },
        services: {
          type: 'object',
          propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          additionalProperties: ref('service'),
          description: 'Named HTTP services: an http step with `service: <name>` sends a relative url to it.',
        },
        executors: {
          ...stringMap({ type: 'string', minLength: 1, description: 'Module path, relative to this file.' }),
          propertyNames: { pattern: '^[a-z][a-z0-9_]*$' },
        },
        steps: stepsList,
        fallbacks: { type: 'array', items: ref('action_step'), description: 'Steps run only when named by `on_error: { fallback }`.' },
        outputs: { type: 'object', description: "The run's named results, computed from expressions." },
        on_success: stepsList,
        on_failure: stepsList,
        finally: stepsList,
      },
      { required: ['steps'] },
    ),
    $defs: {
      ...sharedDefs,
      step: {
        type: 'object',
        if: { required: ['parallel'] },
        then: ref('parallel_group'),
        else: { if: { required: ['steps'] }, then: ref('sequential_group'), else: ref('action_step') },
      },
      action_step: strictObject(
        { ...commonStepFields, ...actionStepFields },
        {
          required: ['id', 'type'],
          allOf: BUILTIN_EXECUTORS.map((e) => ({
            if: { properties: { type: { enum: [e.type, ...e.aliases] } }, required: ['type'] },
            then: { properties: { config: ref(configDefName(e.type)) }, ...(e.configRequired ? { required: ['config'] } : {}) },
          })),
        },
      ),
      parallel_group: strictObject(
        {
          ...commonStepFields,
          parallel: strictObject(
            { steps: stepsList, max_concurrency: { type: 'integer', minimum: 1 }, fail_fast: { type: 'boolean' } },
            { required: ['steps'] },
          ),
        },
        { required: ['id', 'parallel'] },
      ),
      sequential_group: strictObject({ ...commonStepFields, steps: stepsList }, { required: ['id', 'steps'] }),
      ...configDefs,
    },
  };
}
