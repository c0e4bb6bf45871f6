import type { ErrorObject } from 'ajv';
import { findBuiltinExecutor } from '../../executors/registry.js';
import { suggestion } from '../did-you-mean.js';
import type { DiagnosticSink } from '../yaml/diagnostic-sink.js';
import { parsePointer, type PathSegment } from '../yaml/locate.js';
import { reduceSchemaErrors, type SchemaError } from './schema-errors.js';

const DURATION_HINT = 'write a number with a unit: 500ms, 30s, 5m, 2h, 1d (or 1h30m)';

// Turns ajv's errors into one diagnostic per problem, each at its YAML position with a hint.
export function reportSchemaErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  sink: DiagnosticSink,
  basePath: readonly PathSegment[] = [],
): void {
  for (const error of reduceSchemaErrors(errors)) {
    const path = [...basePath, ...parsePointer(error.instancePath)];
    reportOne(error, path, data, sink);
  }
}

function reportOne(error: SchemaError, path: PathSegment[], data: unknown, sink: DiagnosticSink): void {
  const where = describe(path, data);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const key = String(p['missingProperty']);
      sink.report(path, 'missing-key', `${where} is missing required key '${key}'`, { onKey: true, hint: requiredHint(key, path) });
      return;
    }
    case 'requiredOneOf': {
      const keys = (p['keys'] as string[]).map((k) => `'${k}'`).join(' or ');
      sink.report(path, 'missing-key', `${where} needs ${keys}`, { onKey: true });
      return;
    }
    case 'oneOfMany': {
      const keys = ((error.schema as Record<string, unknown>[]) ?? []).flatMap((b) => (b['required'] as string[] | undefined) ?? []);
      sink.report(path, 'invalid-value', `${where} may set only one of ${keys.map((k) => `'${k}'`).join(', ')}`, {
        onKey: true,
        hint: 'remove all but one',
      });
      return;
    }
    case 'not': {
      const keys = ((error.schema as Record<string, unknown>)?.['required'] as string[] | undefined) ?? [];
      sink.report(path, 'invalid-value', `${where} cannot set both ${keys.map((k) => `'${k}'`).join(' and ')}`, {
        onKey: true,
        hint: 'remove one of them',
      });
      return;
    }
    case 'additionalProperties': {
      const key = String(p['additionalProperty']);
      const known = Object.keys(((error.parentSchema as Record<string, unknown>)?.['properties'] as object) ?? {});
      sink.report([...path, key], 'unknown-key', `unknown key '${key}' in ${where}`, {
        onKey: true,
        hint: unknownKeyHint(key, known, path, data),
      });
      return;
    }
    case 'type': {
      if (error.schemaPath.includes('/duration/')) {
        const written = sink.textAt(path) ?? String(error.data);
        sink.report(path, 'invalid-duration', `${where}: '${written}' is not a duration`, {
          hint: typeof error.data === 'number' ? `give it a unit: '${written}s' or '${written}ms'` : DURATION_HINT,
        });
        return;
      }
      const names = error.typeNames ?? [p['type']].flat().map(String);
      const actual = typeName(error.data);
      sink.report(path, 'wrong-type', `${where} must be ${joinTypes(names)}, not ${actual}`, {
        hint: typeHint(path, error.data, names, sink.textAt(path)),
      });
      return;
    }
    case 'enum':
    case 'const': {
      const allowed = (error.keyword === 'enum' ? (p['allowedValues'] as unknown[]) : [p['allowedValue']]).map((v) => String(v));
      const value = String(error.data);
      sink.report(path, 'invalid-value', `${where} is '${value}'; it must be one of: ${allowed.join(', ')}`, {
        hint: suggestion(value, allowed),
      });
      return;
    }
    case 'pattern':
      reportPattern(error, path, where, sink);
      return;
    case 'propertyNames':
      return; // its sub-error (pattern on the name) carries the message
    default:
      sink.report(path, 'invalid-value', `${where} ${error.message ?? 'is invalid'}`);
  }
}

function reportPattern(error: SchemaError, path: PathSegment[], where: string, sink: DiagnosticSink): void {
  const value = String(error.data);
  if (error.schemaPath.includes('/duration/')) {
    sink.report(path, 'invalid-duration', `${where}: '${value}' is not a duration`, { hint: DURATION_HINT });
  } else if (error.schemaPath.includes('/step_id/')) {
    sink.report(path, 'invalid-id', `step id '${value}' is not valid`, {
      hint: `ids are lower case letters, digits and _, starting with a letter, e.g. '${slug(value)}'`,
    });
  } else if (error.propertyName !== undefined) {
    sink.report([...path, error.propertyName], 'invalid-value', `name '${error.propertyName}' in ${where} is not valid`, {
      onKey: true,
      hint: 'use letters, digits and _, starting with a letter',
    });
  } else if (error.schemaPath.includes('/retry/') || path.includes('on')) {
    sink.report(path, 'invalid-value', `${where}: '${value}' is not an error class`, {
      hint: 'use exit:N, exit:any, timeout, network, http:429, http:5xx or any',
    });
  } else {
    sink.report(path, 'invalid-value', `${where}: '${value}' does not match ${String(error.params['pattern'])}`);
  }
}

/** A human name for the place a path points at: "step 'fetch' config.url", "inputs.name". */
function describe(path: PathSegment[], data: unknown): string {
  let node: unknown = data;
  let stepId: string | undefined;
  let rest: PathSegment[] = [];
  for (const segment of path) {
    node = (node as Record<string | number, unknown> | undefined)?.[segment];
    if (typeof segment === 'number' && isStepLike(node)) {
      stepId = typeof (node as { id?: unknown }).id === 'string' ? (node as { id: string }).id : `#${segment + 1}`;
      rest = [];
    } else {
      rest.push(segment);
    }
  }
  const tail = rest.map(String).join('.');
  if (stepId !== undefined) return tail ? `step '${stepId}' ${tail}` : `step '${stepId}'`;
  return tail || 'the workflow';
}

function isStepLike(node: unknown): boolean {
  return (
    typeof node === 'object' &&
    node !== null &&
    !Array.isArray(node) &&
    ('id' in node || 'type' in node || 'steps' in node || 'parallel' in node)
  );
}

function unknownKeyHint(key: string, known: string[], path: PathSegment[], data: unknown): string | undefined {
  const typo = suggestion(key, known);
  if (typo) return typo;
  // A config key written on the step itself is the most common slip.
  const step = path.reduce<unknown>((n, s) => (n as Record<string | number, unknown> | undefined)?.[s], data) as
    | { type?: unknown }
    | undefined;
  const executor = typeof step?.type === 'string' ? findBuiltinExecutor(step.type) : undefined;
  const configKeys = Object.keys((executor?.configSchema['properties'] as object) ?? {});
  if (configKeys.includes(key)) return `'${key}' belongs under 'config:'`;
  if (known.length > 0) return `allowed here: ${known.join(', ')}`;
  return undefined;
}

function requiredHint(key: string, path: PathSegment[]): string | undefined {
  if (key === 'type')
    return 'give the step a type (shell, http, ai_processing, storage, transform, workflow, input) or make it a group with steps: or parallel:';
  if (key === 'id') return 'every step needs an id, e.g. id: build';
  if (key === 'steps' && path.length === 0) return 'a workflow lists its steps under steps:';
  return undefined;
}

function typeHint(path: PathSegment[], value: unknown, names: string[], written: string | undefined): string | undefined {
  if (names.includes('string') && (typeof value === 'number' || typeof value === 'boolean'))
    return `quote the value: "${written ?? String(value)}"`;
  if (path.at(-1) === 'steps' || path.at(-1) === 'on_failure' || path.at(-1) === 'on_success' || path.at(-1) === 'finally')
    return 'a list of steps, each starting with "- id:"';
  return undefined;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
  expression: 'a ${{ }} expression',
};

function joinTypes(names: string[]): string {
  const words = [...new Set(names)].map((n) => TYPE_WORDS[n] ?? n);
  return words.length <= 1 ? (words[0] ?? 'valid') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 37)}...` : value}'`;
  return `${typeof value === 'number' ? 'a number' : 'a boolean'}`;
}

function slug(value: string): string {
  const s = value
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z]+/, '');
  return s || 'step_1';
}
