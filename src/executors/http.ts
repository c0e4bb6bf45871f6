import { orExpression, ref, stringMap, strictObject } from '../language/schema/json-schema.js';
import type { ExecutorDefinition } from './executor.js';

const status = { type: 'integer', minimum: 100, maximum: 599 };

export const httpExecutor: ExecutorDefinition = {
  type: 'http',
  aliases: ['integration'],
  summary: 'One HTTP request; JSON bodies are parsed.',
  configRequired: true,
  configSchema: strictObject(
    {
      method: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
      url: { type: 'string', minLength: 1 },
      headers: stringMap(),
      query: stringMap({ type: ['string', 'number', 'boolean'] }),
      json: { description: 'A value sent as a JSON body.' },
      body: { type: 'string' },
      expect_status: orExpression({ anyOf: [status, { type: 'array', items: status, minItems: 1 }] }),
      timeout: ref('duration'),
      follow_redirects: { type: 'boolean' },
    },
    { required: ['url'], not: { required: ['json', 'body'] } },
  ),
};
