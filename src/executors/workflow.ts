import { strictObject } from '../language/schema/json-schema.js';
import type { ExecutorDefinition } from './executor.js';

export const workflowExecutor: ExecutorDefinition = {
  type: 'workflow',
  aliases: [],
  summary: 'Runs another workflow file as a child run; its outputs come back.',
  configRequired: true,
  configSchema: strictObject(
    {
      path: { type: 'string', minLength: 1, description: 'The workflow file, relative to this file.' },
      inputs: { type: 'object', description: "Values for the child workflow's inputs." },
    },
    { required: ['path'] },
  ),
};
