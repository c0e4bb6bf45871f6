import type { JsonSchema } from '../language/schema/json-schema.js';

// What every step type declares about itself; the workflow schema is assembled from these.
export interface ExecutorDefinition {
  type: string;
  aliases: readonly string[];
  summary: string;
  /** JSON Schema of the step's `config`. */
  configSchema: JsonSchema;
  /** Whether a step of this type must have a `config` key. */
  configRequired: boolean;
}
