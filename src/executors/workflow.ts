import { resolve, dirname } from 'node:path';
import { strictObject } from '../language/schema/json-schema.js';
import type { Executor } from './executor.js';

export const workflowExecutor: Executor = {
  type: 'workflow',
  aliases: [],
  local: true,
  summary: 'Runs another workflow file as a child run; its outputs come back.',
  configRequired: true,
  configSchema: strictObject(
    {
      path: { type: 'string', minLength: 1, description: 'The workflow file, relative to this file.' },
      inputs: { type: 'object', description: "Values for the child workflow's inputs." },
    },
    { required: ['path'] },
  ),
  async execute(config, context) {
    const path = resolve(dirname(context.workflowFile), String(config['path']));
    const inputs = (config['inputs'] as Record<string, unknown> | undefined) ?? {};
    return context.runChildWorkflow(path, inputs);
  },
};
