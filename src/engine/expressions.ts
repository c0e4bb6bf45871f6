import type jsonata from 'jsonata';
import { jsonataLibrary } from '../language/lazy-libraries.js';
import {
  compileDirect,
  type DirectEvaluator,
  directPlainPath,
  type JsonataNode,
  plainPath,
  UNSURE,
} from '../language/expressions/direct.js';
import { parseTemplate, singleExpression } from '../language/expressions/template.js';
import { StepFailure } from './step-failure.js';

// Each distinct source is compiled once: to a direct evaluator where its form allows, to JSONata on first need.
interface CompiledSource {
  direct: DirectEvaluator | undefined;
  jsonata: jsonata.Expression | undefined;
}
const compiled = new Map<string, CompiledSource>();
const MAX_COMPILED = 10_000;

function compile(source: string): CompiledSource {
  let entry = compiled.get(source);
  if (!entry) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    const plain = plainPath(source);
    if (plain) entry = { direct: directPlainPath(plain), jsonata: undefined };
    else {
      const expression = jsonataLibrary()(source);
      entry = { direct: compileDirect(expression.ast() as JsonataNode), jsonata: expression };
    }
    compiled.set(source, entry);
  }
  return entry;
}

// Evaluates one JSONata expression against the scope.
export async function evaluate(source: string, scope: object): Promise<unknown> {
  const entry = compile(source);
  try {
    const value = entry.direct ? entry.direct(scope) : UNSURE;
    if (value !== UNSURE) return value;
    entry.jsonata ??= jsonataLibrary()(source);
    return normalize(await entry.jsonata.evaluate(scope));
  } catch (err) {
    const message = (err as { message?: string }).message ?? String(err);
    throw new StepFailure('expression', `expression \${{${source}}} failed: ${message}`);
  }
}

/** A value with ${{ }} inside: one whole expression keeps its type, a template renders to a string. */
export function resolveValue(value: unknown, scope: object): Promise<unknown> {
  return mapTemplates(value, (text) => resolveString(text, scope));
}

/** Rebuilds a value, replacing each string that holds a ${{ }} by what `replace` makes of it. */
export async function mapTemplates(value: unknown, replace: (text: string) => Promise<unknown>): Promise<unknown> {
  if (typeof value === 'string') return value.includes('${{') ? replace(value) : value;
  if (Array.isArray(value)) return Promise.all(value.map((v) => mapTemplates(v, replace)));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await mapTemplates(v, replace);
    return out;
  }
  return value;
}

async function resolveString(text: string, scope: object): Promise<unknown> {
  const single = singleExpression(text);
  if (single !== undefined) return (await evaluate(single, scope)) ?? null;
  let out = '';
  for (const part of parseTemplate(text).parts) out += part.kind === 'text' ? part.text : renderText(await evaluate(part.source, scope));
  return out;
}

/** How a value reads inside a string: text as is, structures as JSON, nothing as nothing. */
export function renderText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A mapping's values as text, as they reach environment variables, headers and arguments. */
export function renderValues(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderText(v)]));
}

/** `if:` — an expression with or without ${{ }}, or a boolean. JSONata truthiness decides. */
export async function evaluateCondition(condition: string | boolean | undefined, scope: object): Promise<boolean> {
  if (condition === undefined) return true;
  if (typeof condition === 'boolean') return condition;
  const source = singleExpression(condition) ?? condition;
  const value = await evaluate(source, scope);
  return truthy(value);
}

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  return Boolean(value);
}

// JSONata marks result sequences with extra properties; plain arrays and objects are what we store.
function normalize(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return undefined;
  return value;
}
