import { strictObject } from '../language/schema/json-schema.js';
import type { Executor } from './executor.js';

export const transformExecutor: Executor = {
  type: 'transform',
  aliases: [],
  pure: true,
  summary: 'Computes its output from `value` (any YAML value with expressions), with no I/O.',
  configRequired: true,
  configSchema: strictObject(
    { value: { description: 'The output: any value; ${{ }} expressions are evaluated.' } },
    { required: ['value'] },
  ),
  async execute(config) {
    return config['value'];
  },
};
