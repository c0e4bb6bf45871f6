import eventsSchema from '../../schema/events.schema.json' with { type: 'json' };

// The API as OpenAPI 3.1 (its schemas are JSON Schema 2020-12): what GET /api/v1/openapi.json answers, and what the
// contract test checks every response and event against. Keep it in step with runs-api.ts and event-stream.ts.

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const time = { type: 'string', format: 'date-time' };

const error = {
  type: 'object',
  properties: { class: { type: 'string' }, message: { type: 'string' } },
  required: ['class', 'message'],
  additionalProperties: false,
};

const ai = {
  description: 'What model calls took: US dollars over the calls whose cost is known (cost_usd null when none is).',
  type: 'object',
  properties: {
    calls: { type: 'integer', minimum: 0 },
    models: { type: 'array', items: { type: 'string' } },
    prompt_tokens: { type: 'integer', minimum: 0 },
    completion_tokens: { type: 'integer', minimum: 0 },
    cached_tokens: { type: 'integer', minimum: 0 },
    cost_usd: nullable({ type: 'number', minimum: 0 }),
    unpriced_calls: { type: 'integer', minimum: 0 },
  },
  required: ['calls', 'models', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_usd', 'unpriced_calls'],
  additionalProperties: false,
};

const stepStatus = { enum: ['running', 'succeeded', 'failed', 'skipped', 'cancelled', 'interrupted'] };
const runFields = {
  id: { type: 'string' },
  status: { enum: ['running', 'succeeded', 'failed', 'interrupted'] },
  workflow: { type: 'string' },
  path: { type: 'string' },
  started_at: time,
  ended_at: nullable(time),
  duration_ms: nullable({ type: 'number', minimum: 0 }),
  attempt: { type: 'integer', minimum: 1 },
  ai: nullable(ai),
};
const timing = { started_at: time, ended_at: nullable(time), duration_ms: nullable({ type: 'number', minimum: 0 }) };

const schemas = {
  Problem: {
    description: "An error (RFC 9457): `code` and `hint` are the CLI's.",
    type: 'object',
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string' },
      hint: { type: 'string' },
    },
    required: ['type', 'title', 'status', 'detail', 'code'],
    additionalProperties: false,
  },
  Run: { type: 'object', properties: runFields, required: Object.keys(runFields), additionalProperties: false },
  RunPage: {
    type: 'object',
    properties: { runs: { type: 'array', items: ref('Run') }, next_cursor: nullable({ type: 'string' }) },
    required: ['runs', 'next_cursor'],
    additionalProperties: false,
  },
  Step: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      group: nullable({ type: 'string' }),
      section: { enum: ['steps', 'on_success', 'on_failure', 'finally', 'fallbacks'] },
      status: stepStatus,
      cached: { type: 'boolean' },
      attempts: { type: 'integer', minimum: 0 },
      ...timing,
      error: nullable(error),
      reason: nullable({ type: 'string' }),
      output: {},
      ai: nullable(ai),
      attempt_history: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            attempt: { type: 'integer', minimum: 1 },
            status: stepStatus,
            ...timing,
            error: nullable(error),
            delay_ms: nullable({ type: 'number', minimum: 0 }),
            ai: nullable(ai),
          },
          required: ['attempt', 'status', 'started_at', 'ended_at', 'duration_ms', 'error', 'delay_ms', 'ai'],
          additionalProperties: false,
        },
      },
      items: {
        type: 'object',
        properties: Object.fromEntries(['total', ...stepStatus.enum].map((k) => [k, { type: 'integer', minimum: 0 }])),
        additionalProperties: false,
      },
      failed_items: {
        type: 'array',
        items: {
          type: 'object',
          properties: { index: { type: 'integer' }, status: stepStatus, attempts: { type: 'integer' }, ...timing, error: nullable(error) },
          additionalProperties: false,
        },
      },
    },
    required: [
      'id',
      'group',
      'section',
      'status',
      'cached',
      'attempts',
      'started_at',
      'ended_at',
      'duration_ms',
      'error',
      'reason',
      'output',
      'ai',
      'attempt_history',
    ],
    additionalProperties: false,
  },
  RunDetail: {
    description: 'The JSON of `flow show --json`.',
    type: 'object',
    properties: {
      ...runFields,
      parent_run_id: nullable({ type: 'string' }),
      definition_hash: { type: 'string' },
      inputs: { type: 'object' },
      outputs: nullable({ type: 'object' }),
      error: nullable(error),
      steps: { type: 'array', items: ref('Step') },
      child_runs: { type: 'array', items: ref('Run') },
      ai,
    },
    required: [...Object.keys(runFields), 'parent_run_id', 'definition_hash', 'inputs', 'outputs', 'error', 'steps', 'child_runs', 'ai'],
    additionalProperties: false,
  },
  LogPage: {
    type: 'object',
    properties: {
      total: { type: 'integer', minimum: 0 },
      offset: { type: 'integer', minimum: 0 },
      chunks: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            run_id: { type: 'string' },
            step_id: { type: 'string' },
            item: { type: 'integer', minimum: -1 },
            attempt: { type: 'integer', minimum: 1 },
            stream: { enum: ['stdout', 'stderr'] },
            text: { type: 'string' },
          },
          required: ['run_id', 'step_id', 'item', 'attempt', 'stream', 'text'],
          additionalProperties: false,
        },
      },
    },
    required: ['total', 'offset', 'chunks'],
    additionalProperties: false,
  },
  Event: eventsSchema,
  WorkflowList: {
    type: 'object',
    properties: {
      workflows: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            path: { type: 'string' },
            name: nullable({ type: 'string' }),
            valid: { type: 'boolean' },
            errors: { type: 'integer', minimum: 0 },
            warnings: { type: 'integer', minimum: 0 },
          },
          required: ['path', 'name', 'valid', 'errors', 'warnings'],
          additionalProperties: false,
        },
      },
    },
    required: ['workflows'],
    additionalProperties: false,
  },
  PlanNode: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      kind: { enum: ['action', 'parallel', 'sequence'] },
      type: nullable({ type: 'string' }),
      for_each: { type: 'boolean' },
      children: { type: 'array', items: ref('PlanNode') },
      prompt: { ...nullable({ type: 'string' }), description: "an AI step's system text and prompt (or messages), as written" },
    },
    required: ['id', 'kind', 'type', 'for_each', 'children', 'prompt'],
    additionalProperties: false,
  },
  CheckedWorkflow: {
    description: 'A workflow text as flow validate checks it, with its inputs (for a run form) and its plan as a graph.',
    type: 'object',
    properties: {
      path: { type: 'string' },
      text: { type: 'string' },
      valid: { type: 'boolean' },
      diagnostics: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            line: { type: 'integer' },
            column: { type: 'integer' },
            severity: { enum: ['error', 'warning'] },
            code: { type: 'string' },
            message: { type: 'string' },
            path: { type: 'string' },
            hint: nullable({ type: 'string' }),
          },
          required: ['line', 'column', 'severity', 'code', 'message', 'path', 'hint'],
          additionalProperties: false,
        },
      },
      name: nullable({ type: 'string' }),
      inputs: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            type: { enum: ['string', 'number', 'integer', 'boolean', 'object', 'array'] },
            required: { type: 'boolean' },
            default: {},
            enum: nullable({ type: 'array' }),
            description: nullable({ type: 'string' }),
            secret: { type: 'boolean' },
          },
          required: ['name', 'type', 'required', 'default', 'enum', 'description', 'secret'],
          additionalProperties: false,
        },
      },
      graph: nullable({
        type: 'object',
        properties: Object.fromEntries(
          ['steps', 'on_success', 'on_failure', 'finally'].map((k) => [k, { type: 'array', items: ref('PlanNode') }]),
        ),
        required: ['steps', 'on_success', 'on_failure', 'finally'],
        additionalProperties: false,
      }),
    },
    required: ['path', 'text', 'valid', 'diagnostics', 'name', 'inputs', 'graph'],
    additionalProperties: false,
  },
  Started: {
    type: 'object',
    properties: { id: { type: 'string' } },
    required: ['id'],
    additionalProperties: false,
  },
  Plan: {
    description: 'What a resume would restore and run: the text of `flow resume --plan`.',
    type: 'object',
    properties: { plan: { type: 'string' } },
    required: ['plan'],
    additionalProperties: false,
  },
  StartRequest: {
    type: 'object',
    properties: {
      workflow: { type: 'string', description: 'the workflow file, relative to the directory flow serve serves' },
      inputs: { type: 'object', description: 'input values by name, as JSON values' },
    },
    required: ['workflow'],
    additionalProperties: false,
  },
  ResumeRequest: {
    type: 'object',
    properties: {
      from: { type: 'string', description: 'run this step and every step after it again (as --from)' },
      plan: { type: 'boolean', description: 'only say what would run (as --plan)' },
      inputs: { type: 'object', description: 'secret inputs again (they are stored masked)' },
    },
    additionalProperties: false,
  },
};

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [String(s), { description: 'A problem', content: { 'application/problem+json': { schema: ref('Problem') } } }]),
  );
const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const pathParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
// Every request: the token (401), the Host allowlist (403).
const guarded = [401, 403];

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'flow serve',
      version: '1',
      description:
        'The runs of a flow state file over HTTP. Every request needs the token `flow serve` printed, as `Authorization: Bearer TOKEN` or the cookie its URL sets.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { cookie: [] }],
    paths: {
      '/runs': {
        get: {
          summary: 'Runs, newest first, a page at a time',
          parameters: [
            query('status', 'running, succeeded, failed or interrupted (as seen now)'),
            query('workflow', 'the workflow name'),
            query('since', 'runs started at or after this ISO 8601 time'),
            query('text', 'runs whose id, workflow name or path contains this'),
            query('limit', 'runs per page (default 50, at most 500)', { type: 'integer', minimum: 1 }),
            query('cursor', 'the next_cursor of the page before'),
          ],
          responses: { 200: json(ref('RunPage'), 'A page of runs'), ...problems(400, ...guarded) },
        },
        post: {
          summary: 'Start a workflow file with inputs; answers at once with the run id (the server drives the run)',
          requestBody: { required: true, content: { 'application/json': { schema: ref('StartRequest') } } },
          responses: { 201: json(ref('Started'), 'Started'), ...problems(400, 404, 413, 415, ...guarded) },
        },
      },
      '/runs/{id}': {
        get: {
          summary: 'One run, as flow show --json gives it',
          parameters: [pathParam('id', 'the run id')],
          responses: { 200: json(ref('RunDetail'), 'The run'), ...problems(404, ...guarded) },
        },
      },
      '/runs/{id}/steps/{step}/logs': {
        get: {
          summary: "A step's output chunks (its child runs' steps' too), a range at a time",
          parameters: [
            pathParam('id', 'the run id'),
            pathParam('step', 'the step id; `id[N]` for one for_each item'),
            query('attempt', 'only this attempt', { type: 'integer', minimum: 1 }),
            query('offset', 'the first chunk (default 0)', { type: 'integer', minimum: 0 }),
            query('limit', 'chunks at most (default 1000)', { type: 'integer', minimum: 1 }),
          ],
          responses: { 200: json(ref('LogPage'), 'The chunks'), ...problems(400, 404, ...guarded) },
        },
      },
      '/runs/{id}/events': {
        get: {
          summary: "The run's events as server-sent events",
          description:
            "First `event: snapshot` (data: the RunDetail, id: the sequence number it reflects), then each event after it, or after the `Last-Event-ID` header: `id` is its number in the run's sequence and `data` exactly its `--json` line (an Event). A comment line `: ping` every 15 s.",
          parameters: [pathParam('id', 'the run id')],
          responses: {
            200: { description: 'The stream', content: { 'text/event-stream': { schema: ref('Event') } } },
            ...problems(404, ...guarded),
          },
        },
      },
      '/runs/{id}/graph': {
        get: {
          summary:
            "The plan of the run's workflow, as the run recorded it, as a tree (null when that text no longer validates), and the inputs it declares",
          parameters: [pathParam('id', 'the run id')],
          responses: {
            200: json(
              {
                type: 'object',
                properties: { graph: ref('CheckedWorkflow/properties/graph'), inputs: ref('CheckedWorkflow/properties/inputs') },
                required: ['graph', 'inputs'],
                additionalProperties: false,
              },
              'The plan',
            ),
            ...problems(404, ...guarded),
          },
        },
      },
      '/runs/{id}/resume': {
        post: {
          summary: 'Resume a failed or interrupted run (as flow resume), or with plan: true say what it would run',
          parameters: [pathParam('id', 'the run id')],
          requestBody: { required: false, content: { 'application/json': { schema: ref('ResumeRequest') } } },
          responses: {
            200: json(ref('Plan'), 'The plan (plan: true)'),
            201: json(ref('Started'), 'Resumed, driven by the server'),
            ...problems(400, 404, 409, 413, 415, ...guarded),
          },
        },
      },
      '/runs/{id}/rerun': {
        post: {
          summary:
            "A new run of the same workflow file with the run's inputs, changed by `inputs`; its succeeded steps before the first one a changed step or input could change are taken over",
          parameters: [pathParam('id', 'the run id')],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { inputs: { type: 'object', description: 'inputs to change, and secret inputs (stored masked) again' } },
                  additionalProperties: false,
                },
              },
            },
          },
          responses: { 201: json(ref('Started'), 'Started, driven by the server'), ...problems(400, 404, 409, 413, 415, ...guarded) },
        },
      },
      '/runs/{id}/cancel': {
        post: {
          summary: 'Stop a running run, as Ctrl-C does: it is then interrupted, and resumable',
          parameters: [pathParam('id', 'the run id')],
          responses: { 200: json(ref('RunDetail'), 'The run, stopped'), ...problems(404, 409, ...guarded) },
        },
      },
      '/events': {
        get: {
          summary: "Every run's events, their output aside, as server-sent events",
          description:
            "First `event: snapshot` (data: the newest page of runs, a RunPage; id: the number of the newest event), then each event recorded after it, or after the `Last-Event-ID` header: `id` is its number in the state file's order of events, `data` exactly its `--json` line (an Event). A comment line `: ping` every 15 s.",
          responses: {
            200: { description: 'The stream', content: { 'text/event-stream': { schema: ref('Event') } } },
            ...problems(...guarded),
          },
        },
      },
      '/workflows': {
        get: {
          summary: 'The workflow files under the served directory (YAML files with a top-level steps:), each with its validation state',
          responses: { 200: json(ref('WorkflowList'), 'The files'), ...problems(...guarded) },
        },
      },
      '/workflows/{path}': {
        get: {
          summary: 'One workflow file: its text, problems at line and column, inputs and plan',
          parameters: [pathParam('path', 'the file, relative to the served directory (slashes allowed)')],
          responses: { 200: json(ref('CheckedWorkflow'), 'The file, checked'), ...problems(400, 404, ...guarded) },
        },
      },
      '/workflows/validate': {
        post: {
          summary: 'Check a workflow text as flow validate would, as if it were the file `path`',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { text: { type: 'string' }, path: { type: 'string' } },
                  required: ['text'],
                  additionalProperties: false,
                },
              },
            },
          },
          responses: { 200: json(ref('CheckedWorkflow'), 'The text, checked'), ...problems(400, 413, 415, ...guarded) },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1'), ...problems(...guarded) } },
      },
    },
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'flow_token' },
      },
    },
  };
}
