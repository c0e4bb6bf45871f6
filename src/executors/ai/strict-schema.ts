// OpenAI's strict mode takes a subset of JSON Schema: the root an object, every object closed
// (`additionalProperties: false`) with every property required, and none of the keywords below. Most schemas people
// write are one step away: properties left optional. Such a schema is sent in strict form, each optional property
// required but nullable, and a null the server then puts where the property could have been left out is taken out
// again before the answer is checked against the schema as written. Pure: plain JSON in, plain JSON out.

type Schema = Record<string, unknown>;

/** What strict mode does not take (and what this conversion cannot follow: `$ref`). */
const UNSUPPORTED = [
  'allOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'prefixItems',
  'contains',
  '$ref',
];

export interface StrictForm {
  /** The schema as strict mode takes it. */
  schema: Schema;
  /** Takes out the nulls strict mode put in place of properties that were optional and do not take null. */
  restore(answer: unknown): unknown;
}

/** The strict form of a schema, or undefined when strict mode cannot take it (it is then sent loosely). */
export function strictForm(schema: unknown): StrictForm | undefined {
  if (!isSchema(schema) || !isObjectNode(schema)) return undefined;
  const converted = convert(schema);
  return converted && { schema: converted.schema, restore: converted.restore ?? ((answer) => answer) };
}

interface Converted {
  schema: Schema;
  /** Undefined when the node's answers need no change. */
  restore: ((value: unknown) => unknown) | undefined;
}

function convert(node: unknown): Converted | undefined {
  if (!isSchema(node) || UNSUPPORTED.some((k) => k in node)) return undefined;
  if (isObjectNode(node)) return convertObject(node);
  const out: Schema = { ...node };
  let restore: Converted['restore'];
  if ('items' in node) {
    const items = convert(node['items']);
    if (!items) return undefined;
    out['items'] = items.schema;
    const inner = items.restore;
    if (inner) restore = (v) => (Array.isArray(v) ? v.map(inner) : v);
  }
  if (Array.isArray(node['anyOf'])) {
    const branches = node['anyOf'].map(convert);
    // Which branch an answer took is not known here: only branches whose answers need no change are followed.
    if (branches.some((b) => !b || b.restore)) return undefined;
    out['anyOf'] = branches.map((b) => b!.schema);
  }
  return { schema: out, restore };
}

function convertObject(node: Schema): Converted | undefined {
  if ('additionalProperties' in node && node['additionalProperties'] !== false) return undefined;
  if (Array.isArray(node['anyOf'])) return undefined;
  const properties = isSchema(node['properties']) ? node['properties'] : {};
  const required = new Set(Array.isArray(node['required']) ? (node['required'] as string[]) : []);
  const out: Schema = {};
  const restores = new Map<string, (value: unknown) => unknown>();
  const droppedWhenNull = new Set<string>();
  for (const [name, property] of Object.entries(properties)) {
    const converted = convert(property);
    if (!converted) return undefined;
    if (converted.restore) restores.set(name, converted.restore);
    if (required.has(name)) out[name] = converted.schema;
    else {
      out[name] = nullable(converted.schema);
      if (!takesNull(property)) droppedWhenNull.add(name);
    }
  }
  const schema: Schema = { ...node, type: 'object', properties: out, required: Object.keys(out), additionalProperties: false };
  if (restores.size === 0 && droppedWhenNull.size === 0) return { schema, restore: undefined };
  return {
    schema,
    restore(value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
      const answer: Record<string, unknown> = {};
      for (const [name, v] of Object.entries(value)) {
        if (v === null && droppedWhenNull.has(name)) continue;
        const inner = restores.get(name);
        answer[name] = inner && v !== null ? inner(v) : v;
      }
      return answer;
    },
  };
}

/** The schema, or null. */
function nullable(schema: Schema): Schema {
  if (takesNull(schema)) return schema;
  const type = schema['type'];
  const out: Schema = { ...schema };
  if (Array.isArray(schema['enum'])) out['enum'] = [...schema['enum'], null];
  if (typeof type === 'string') out['type'] = [type, 'null'];
  else if (Array.isArray(type)) out['type'] = [...type, 'null'];
  else if (!Array.isArray(schema['enum'])) return { anyOf: [schema, { type: 'null' }] };
  return out;
}

function takesNull(schema: unknown): boolean {
  if (!isSchema(schema)) return false;
  const type = schema['type'];
  if (type === 'null' || (Array.isArray(type) && type.includes('null'))) return true;
  if (Array.isArray(schema['enum'])) return schema['enum'].includes(null);
  if (Array.isArray(schema['anyOf'])) return schema['anyOf'].some(takesNull);
  return false;
}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isObjectNode = (s: Schema) => s['type'] === 'object' || isSchema(s['properties']);
