import { strictObject } from '../language/schema/json-schema.js';
import type { ExecutorDefinition } from './executor.js';

export const inputExecutor: ExecutorDefinition = {
  type: 'input',
  aliases: [],
  summary: "Checks the run's inputs (required_fields, types from `inputs`); outputs the inputs.",
  configRequired: false,
  configSchema: strictObject({
    required_fields: { type: 'array', items: { type: 'string' }, uniqueItems: true, description: 'Inputs that must have a value.' },
  }),
};
