// The subset of JSON Schema that flow's own schemas are written in.
export type JsonSchema = { [keyword: string]: unknown };

export const ref = (name: string): JsonSchema => ({ $ref: `#/$defs/${name}` });

/** A value of `schema`, or one `${{ }}` expression computing it at run time. */
export const orExpression = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, ref('expression')] });

export const stringMap = (values: JsonSchema = { type: 'string' }): JsonSchema => ({
  type: 'object',
  additionalProperties: values,
});

export const strictObject = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  additionalProperties: false,
  ...extra,
});
