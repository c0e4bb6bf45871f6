import { strictObject } from '../language/schema/json-schema.js';
import { StepFailure } from '../engine/step-failure.js';
import type { Executor } from './executor.js';

export const inputExecutor: Executor = {
  type: 'input',
  aliases: [],
  pure: true,
  summary: "Checks the run's inputs (required_fields, types from `inputs`); outputs the inputs.",
  configRequired: false,
  configSchema: strictObject({
    required_fields: { type: 'array', items: { type: 'string' }, uniqueItems: true, description: 'Inputs that must have a value.' },
  }),
  async execute(config, context) {
    const required = Array.isArray(config['required_fields']) ? config['required_fields'].map(String) : [];
    const missing = required.filter(
      (name) => context.inputs[name] === undefined || context.inputs[name] === null || context.inputs[name] === '',
    );
    if (missing.length > 0) {
      throw new StepFailure(
        'validation',
        `missing required input${missing.length > 1 ? 's' : ''}: ${missing.join(', ')} (pass --input ${missing[0]}=...)`,
      );
    }
    return { ...context.inputs };
  },
};
