import type OpenAI from 'openai';

/**
 * `response_format` for a schema: strict (the server guarantees the shape) when the schema already meets strict
 * mode's rules (every object closed, every property required); otherwise a request the server may follow loosely,
 * and flow checks the answer either way.
 */
export function responseFormat(schema: Record<string, unknown>): OpenAI.ResponseFormatJSONSchema {
  return { type: 'json_schema', json_schema: { name: 'answer', schema, strict: strictCompatible(schema) } };
}

export function strictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(strictCompatible);
  if (typeof schema !== 'object' || schema === null) return true;
  const s = schema as Record<string, unknown>;
  if (s['type'] === 'object' || s['properties'] !== undefined) {
    const properties = Object.keys((s['properties'] as Record<string, unknown>) ?? {});
    const required = Array.isArray(s['required']) ? (s['required'] as string[]) : [];
    if (s['additionalProperties'] !== false || properties.some((p) => !required.includes(p))) return false;
  }
  return Object.values(s).every(strictCompatible);
}
