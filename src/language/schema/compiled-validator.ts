import type { ErrorObject } from 'ajv';
import validate from '../../generated/workflow-validator.mjs';

// The workflow schema's validator, compiled by the build (scripts/build.mjs) so validation never loads ajv's compiler.
export function validateAgainstSchema(data: unknown): ErrorObject[] {
  return validate(data) ? [] : [...(validate.errors ?? [])];
}
