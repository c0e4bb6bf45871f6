// Most expressions in workflows are a path (`inputs.name`, `steps.fetch.output.body`, `item`) or a path with a literal
// (`item + 1`, `steps.check.output = "ok"`). JSONata evaluates each of them through a new environment, a chain of
// promises and a sequence per step: tens of kilobytes of garbage for a for_each item. A direct evaluator computes these
// forms from JSONata's own syntax tree, synchronously, and answers UNSURE for every case whose JSONata meaning is more
// than a plain lookup or an operator on two numbers or two strings (arrays along a path, mixed types, errors): the
// caller then asks JSONata, so JSONata alone decides what an expression means. test/language/expressions/direct.test.ts
// holds the two to the same answers.

export const UNSURE: unique symbol = Symbol('unsure');

/** Computes an expression's value from its scope, or UNSURE where JSONata must be asked. */
export type DirectEvaluator = (scope: unknown) => unknown;

/** A JSONata syntax-tree node, as `jsonata(source).ast()` gives it. */
export interface JsonataNode {
  type: string;
  value?: unknown;
  [key: string]: unknown;
}

// Words that JSONata reads as operators or literals, not as names.
const RESERVED_WORDS: ReadonlySet<string> = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);

// A dotted path of plain names, with the white space JSONata skips around it (space, tab, CR, LF, VT; not \s, which
// takes in characters JSONata reads as part of a name): read without loading JSONata at all.
const PLAIN_PATH = /^([ \t\n\r\v]*)([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)[ \t\n\r\v]*$/;

export interface PlainPath {
  root: string;
  path: string[];
  /** Offset of the root name in the source. */
  start: number;
}

// A reserved word anywhere along the path (`a.true` is no path to JSONata but a syntax error) leaves it to JSONata.
export function plainPath(source: string): PlainPath | undefined {
  const match = PLAIN_PATH.exec(source);
  if (!match) return undefined;
  const path = match[3] ? match[3].slice(1).split('.') : [];
  if (RESERVED_WORDS.has(match[2]!) || path.some((name) => RESERVED_WORDS.has(name))) return undefined;
  return { root: match[2]!, path, start: match[1]!.length };
}

export function directPlainPath(found: PlainPath): DirectEvaluator {
  const names = [found.root, ...found.path];
  return (scope) => readPath(scope, names);
}

// Keys a node may carry and still be evaluated directly; any other (predicates, stages, groups, focus, sort terms,
// tuple bindings) changes what the node means.
const PLAIN_KEYS = new Set(['type', 'value', 'position', 'lhs', 'rhs', 'steps', 'expression', 'expressions', 'condition', 'then', 'else']);

/** A direct evaluator for the tree, or undefined when any part of it is beyond the forms above. */
export function compileDirect(node: JsonataNode): DirectEvaluator | undefined {
  for (const key of Object.keys(node)) if (!PLAIN_KEYS.has(key) && node[key] !== undefined) return undefined;
  switch (node.type) {
    case 'number':
    case 'string':
    case 'value': {
      const value = node.value;
      return () => value;
    }
    case 'path':
      return compilePath(node);
    case 'unary':
      return node.value === '-' ? compileNegation(node) : undefined;
    case 'binary':
      return compileBinary(node);
    case 'block':
      return compileBlock(node);
    case 'condition':
      return compileCondition(node);
    default:
      return undefined;
  }
}

function compilePath(node: JsonataNode): DirectEvaluator | undefined {
  const steps = node.steps;
  if (!Array.isArray(steps) || steps.length === 0) return undefined;
  const names: string[] = [];
  for (const step of steps as JsonataNode[]) {
    if (step.type !== 'name' || typeof step.value !== 'string') return undefined;
    for (const key of Object.keys(step)) if (key !== 'type' && key !== 'value' && key !== 'position') return undefined;
    names.push(step.value);
  }
  return (scope) => readPath(scope, names);
}

// JSONata's lookup: own properties of objects only. Along the path an array maps the rest of the path over its items
// (and flattens), a sequence from an earlier evaluation unwraps: both are left to JSONata.
function readPath(scope: unknown, names: readonly string[]): unknown {
  let value = scope;
  for (const name of names) {
    if (Array.isArray(value) || !isPlainObject(value)) return Array.isArray(value) ? UNSURE : undefined;
    if (!Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  if (typeof value === 'function') return UNSURE;
  if (Array.isArray(value)) return isMarkedArray(value) ? UNSURE : value;
  if (value !== null && typeof value === 'object' && !isPlainObject(value)) return UNSURE;
  return value;
}

// Not one of JSONata's function objects, which it knows by these marks being true (its isFunction).
function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  const marks = value as { _jsonata_function?: unknown; _jsonata_lambda?: unknown };
  return marks._jsonata_function !== true && marks._jsonata_lambda !== true;
}

// JSONata's own arrays (a sequence, a constructed array, a tuple stream) behave differently from data arrays.
function isMarkedArray(value: unknown[]): boolean {
  const marks = value as unknown as Record<string, unknown>;
  return (
    marks['sequence'] !== undefined ||
    marks['cons'] !== undefined ||
    marks['keepSingleton'] !== undefined ||
    marks['tupleStream'] !== undefined ||
    marks['outerWrapper'] !== undefined
  );
}

function compileNegation(node: JsonataNode): DirectEvaluator | undefined {
  const operand = compileDirect(node['expression'] as JsonataNode);
  if (!operand) return undefined;
  return (scope) => {
    const value = operand(scope);
    if (value === undefined) return undefined;
    return finiteNumber(value) ? -value : UNSURE;
  };
}

function compileBlock(node: JsonataNode): DirectEvaluator | undefined {
  const expressions = node['expressions'];
  if (!Array.isArray(expressions) || expressions.length === 0) return undefined;
  const parts = (expressions as JsonataNode[]).map(compileDirect);
  if (parts.some((p) => p === undefined)) return undefined;
  const evaluators = parts as DirectEvaluator[];
  return (scope) => {
    let value: unknown;
    for (const evaluate of evaluators) {
      value = evaluate(scope);
      if (value === UNSURE) return UNSURE;
    }
    return value;
  };
}

function compileCondition(node: JsonataNode): DirectEvaluator | undefined {
  const test = compileDirect(node['condition'] as JsonataNode);
  const then = compileDirect(node['then'] as JsonataNode);
  const otherwise = node['else'] === undefined ? () => undefined : compileDirect(node['else'] as JsonataNode);
  if (!test || !then || !otherwise) return undefined;
  return (scope) => {
    const value = test(scope);
    if (typeof value !== 'boolean') return UNSURE;
    return value ? then(scope) : otherwise(scope);
  };
}

function compileBinary(node: JsonataNode): DirectEvaluator | undefined {
  const lhs = compileDirect(node['lhs'] as JsonataNode);
  const rhs = compileDirect(node['rhs'] as JsonataNode);
  if (!lhs || !rhs) return undefined;
  const operate = OPERATORS[node.value as string];
  if (!operate) return undefined;
  if (node.value === 'and' || node.value === 'or') {
    const stopAt = node.value === 'or';
    // JSONata does not evaluate the right side once the left decides.
    return (scope) => {
      const left = lhs(scope);
      if (typeof left !== 'boolean') return UNSURE;
      if (left === stopAt) return left;
      const right = rhs(scope);
      return typeof right === 'boolean' ? right : UNSURE;
    };
  }
  return (scope) => {
    const left = lhs(scope);
    if (left === UNSURE) return UNSURE;
    const right = rhs(scope);
    if (right === UNSURE) return UNSURE;
    return operate(left, right);
  };
}

type Operator = (left: unknown, right: unknown) => unknown;

// Each answers only where JSONata's answer is the plain JavaScript one; see evaluateNumericExpression,
// evaluateEqualityExpression and evaluateComparisonExpression in jsonata.js.
const arithmetic =
  (apply: (a: number, b: number) => number): Operator =>
  (left, right) => {
    if (left === undefined && (right === undefined || finiteNumber(right))) return undefined;
    if (right === undefined && finiteNumber(left)) return undefined;
    return finiteNumber(left) && finiteNumber(right) ? apply(left, right) : UNSURE;
  };

const comparison =
  (compare: (a: number | string, b: number | string) => boolean): Operator =>
  (left, right) => {
    if ((typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string')) {
      return compare(left, right);
    }
    return UNSURE;
  };

const equality =
  (equal: boolean): Operator =>
  (left, right) => {
    if (left === undefined || right === undefined) return false;
    if (!primitive(left) || !primitive(right)) return UNSURE;
    return (left === right) === equal;
  };

const OPERATORS: Record<string, Operator> = {
  '+': arithmetic((a, b) => a + b),
  '-': arithmetic((a, b) => a - b),
  '*': arithmetic((a, b) => a * b),
  '/': arithmetic((a, b) => a / b),
  '%': arithmetic((a, b) => a % b),
  '<': comparison((a, b) => a < b),
  '<=': comparison((a, b) => a <= b),
  '>': comparison((a, b) => a > b),
  '>=': comparison((a, b) => a >= b),
  '=': equality(true),
  '!=': equality(false),
  and: () => UNSURE,
  or: () => UNSURE,
};

function finiteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function primitive(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
