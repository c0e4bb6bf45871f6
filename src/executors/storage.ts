import { strictObject } from '../language/schema/json-schema.js';
import type { ExecutorDefinition } from './executor.js';

export const storageExecutor: ExecutorDefinition = {
  type: 'storage',
  aliases: [],
  summary: 'Writes or reads one object, locally or in any S3-compatible store; a write without content stores `previous`.',
  configRequired: true,
  configSchema: strictObject(
    {
      storage_type: { enum: ['local', 's3'] },
      operation: { enum: ['write', 'read'] },
      path: { type: 'string', minLength: 1, description: 'local: the file path.' },
      bucket: { type: 'string', minLength: 1, description: 's3: the bucket.' },
      key: { type: 'string', minLength: 1, description: 's3: the object key (default <run id>/<step id>.json).' },
      content: { description: 'What to write: any value; objects and lists are written as JSON.' },
      content_type: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      force_path_style: { type: 'boolean' },
    },
    {
      required: ['storage_type'],
      allOf: [
        { if: { properties: { storage_type: { const: 'local' } }, required: ['storage_type'] }, then: { required: ['path'] } },
        { if: { properties: { storage_type: { const: 's3' } }, required: ['storage_type'] }, then: { required: ['bucket'] } },
      ],
    },
  ),
};
