import type OpenAI from 'openai';
import { type StrictForm, strictForm } from './strict-schema.js';

export interface ResponseFormat {
  format: OpenAI.ResponseFormatJSONSchema;
  /** The answer as the schema as written would have it (see strict-schema.ts); the identity for a loose request. */
  restore: StrictForm['restore'];
}

/**
 * `response_format` for a schema: strict (the server keeps to the shape) in the schema's strict form where it has
 * one; otherwise a request the server may follow loosely. flow checks the answer against the schema either way.
 */
export function responseFormat(schema: Record<string, unknown>): ResponseFormat {
  const strict = strictForm(schema);
  return {
    format: { type: 'json_schema', json_schema: { name: 'answer', schema: strict?.schema ?? schema, strict: strict !== undefined } },
    restore: strict?.restore ?? ((answer) => answer),
  };
}
