import { InputError } from '../model/errors.js';
import type { InputSpec } from '../model/workflow.js';

/**
 * The run's inputs: given values checked and converted to their declared types, defaults filled in.
 * Values from `--input k=v` are text and are converted; values from `--inputs FILE` keep their types.
 */
export function resolveInputs(declared: readonly InputSpec[], given: Record<string, unknown>): Record<string, unknown> {
  const names = new Set(declared.map((d) => d.name));
  const unknown = Object.keys(given).filter((k) => !names.has(k));
  if (unknown.length > 0) {
    const list = declared.length ? declared.map((d) => d.name).join(', ') : 'none';
    throw new InputError(`unknown input '${unknown[0]}'`, `this workflow declares: ${list}`);
  }
  const values: Record<string, unknown> = {};
  for (const spec of declared) {
    const raw = given[spec.name];
    if (raw === undefined) {
      if (spec.default !== undefined) values[spec.name] = spec.default;
      else if (spec.required) throw new InputError(`input '${spec.name}' is required`, `pass --input ${spec.name}=...`);
      continue;
    }
    const value = convert(spec, raw);
    if (spec.enum && !spec.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
      throw new InputError(
        `input '${spec.name}' is ${JSON.stringify(value)}; it must be one of: ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}`,
      );
    }
    values[spec.name] = value;
  }
  return values;
}

function convert(spec: InputSpec, raw: unknown): unknown {
  const fail = (what: string): never => {
    throw new InputError(`input '${spec.name}' must be ${what}, got ${JSON.stringify(raw)}`);
  };
  const text = typeof raw === 'string' ? raw : undefined;
  switch (spec.type) {
    case 'string':
      return typeof raw === 'string' ? raw : fail('a string');
    case 'number': {
      const n = text !== undefined && text.trim() !== '' ? Number(text) : raw;
      return typeof n === 'number' && Number.isFinite(n) ? n : fail('a number');
    }
    case 'integer': {
      const n = text !== undefined && /^-?\d+$/.test(text.trim()) ? Number(text) : raw;
      return typeof n === 'number' && Number.isInteger(n) ? n : fail('an integer');
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (text === 'true' || text === 'false') return text === 'true';
      return fail('true or false');
    }
    case 'object':
    case 'array': {
      let v = raw;
      if (text !== undefined) {
        try {
          v = JSON.parse(text);
        } catch {
          fail(`JSON ${spec.type === 'object' ? 'object' : 'list'}`);
        }
      }
      const ok = spec.type === 'array' ? Array.isArray(v) : typeof v === 'object' && v !== null && !Array.isArray(v);
      return ok ? v : fail(spec.type === 'object' ? 'an object' : 'a list');
    }
  }
}
