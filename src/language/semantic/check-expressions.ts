import { suggestion } from '../did-you-mean.js';
import { analyzeExpression, type ScopeReference } from '../expressions/references.js';
import { parseTemplate } from '../expressions/template.js';
import { offsetInNode, type DiagnosticSink } from '../yaml/diagnostic-sink.js';
import type { PathSegment } from '../yaml/locate.js';
import { RUN_FIELDS, SCOPE_ROOTS, STEP_RESULT_FIELDS } from './scope.js';
import type { Relation, StepNode, StepTree } from './step-tree.js';
import { isRecord } from '../plain-data.js';

/** Where an expression is evaluated, and so what it may read. */
export interface ExpressionContext {
  /** How a step stands to the place the expression is evaluated. */
  relation(step: StepNode): Relation;
  self?: string;
  forEach: boolean;
  /** Inside a step's own `outputs:`, where `output` is the step's result. */
  ownOutput: boolean;
}

/** What the expressions of a file read, for the unused-input and unused-output warnings. */
export interface Usage {
  inputs: Set<string>;
  allInputs: boolean;
  outputs: Map<string, Set<string> | 'all'>;
}

export interface ExpressionCheck {
  sink: DiagnosticSink;
  tree: StepTree;
  inputs: Set<string>;
  secrets: Set<string>;
  usage: Usage;
}

// Checks every ${{ }} (and every bare `if:`) under a value: syntax, and that each name it reads exists and is ready.
export function checkValue(
  check: ExpressionCheck,
  value: unknown,
  path: PathSegment[],
  context: ExpressionContext,
  bareExpression = false,
): void {
  if (typeof value === 'string') {
    checkString(check, value, path, context, bareExpression);
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkValue(check, v, [...path, i], context);
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) checkValue(check, v, [...path, k], context);
  }
}

function checkString(check: ExpressionCheck, text: string, path: PathSegment[], context: ExpressionContext, bare: boolean): void {
  if (bare && !text.includes('${{')) {
    checkExpression(check, text, path, text, 0, context);
    return;
  }
  const parsed = parseTemplate(text);
  for (const part of parsed.parts) {
    if (part.kind === 'expression') checkExpression(check, part.source, path, text, part.start, context);
  }
  if (parsed.unclosedAt !== undefined) {
    report(
      check,
      path,
      text,
      parsed.unclosedAt,
      3,
      'expression-syntax',
      "'${{' is never closed with '}}'",
      'close the expression: ${{ inputs.name }}',
    );
  }
}

/** `sourceOffset` is where the expression's source starts inside the string `text`. */
function checkExpression(
  check: ExpressionCheck,
  source: string,
  path: PathSegment[],
  text: string,
  sourceOffset: number,
  context: ExpressionContext,
): void {
  if (source.trim() === '') {
    report(
      check,
      path,
      text,
      Math.max(0, sourceOffset - 3),
      source.length + 5,
      'expression-syntax',
      'empty expression',
      'write an expression inside ${{ }}, e.g. ${{ inputs.name }}',
    );
    return;
  }
  const result = analyzeExpression(source);
  if (!result.ok) {
    report(
      check,
      path,
      text,
      sourceOffset + result.offset,
      1,
      'expression-syntax',
      `expression does not parse: ${result.message}`,
      'expressions are JSONata: paths like steps.fetch.output.body, = for equality, & to join strings',
    );
    return;
  }
  for (const ref of result.references) checkReference(check, ref, path, text, sourceOffset, context);
}

function checkReference(
  check: ExpressionCheck,
  ref: ScopeReference,
  path: PathSegment[],
  text: string,
  sourceOffset: number,
  context: ExpressionContext,
): void {
  const at = (code: Parameters<typeof report>[5], message: string, hint?: string) =>
    report(check, path, text, sourceOffset + ref.start, ref.end - ref.start, code, message, hint);
  const [first, second, third] = ref.path;
  switch (ref.root) {
    case 'inputs':
      if (first === undefined) check.usage.allInputs = true;
      else if (!check.inputs.has(first))
        at(
          'unknown-input',
          `input '${first}' is not declared`,
          suggestion(first, check.inputs) ?? `declare it under inputs: (${first}: { type: string })`,
        );
      else check.usage.inputs.add(first);
      return;
    case 'secrets':
      if (first !== undefined && !check.secrets.has(first))
        at(
          'unknown-secret',
          `secret '${first}' is not listed under secrets:`,
          suggestion(first, check.secrets) ?? `add it: secrets: [${first}]`,
        );
      return;
    case 'run':
      if (first !== undefined && !(RUN_FIELDS as readonly string[]).includes(first))
        at('unknown-name', `'run.${first}' does not exist`, suggestion(first, RUN_FIELDS) ?? `run has: ${RUN_FIELDS.join(', ')}`);
      return;
    case 'item':
    case 'index':
      if (!context.forEach)
        at(
          'item-outside-for-each',
          `'${ref.root}' is only defined inside a for_each step's config and env`,
          'add for_each: to this step, or read the list through steps.<id>.output',
        );
      return;
    case 'output':
      if (!context.ownOutput)
        at('unknown-name', "'output' is only defined in a step's own outputs:", 'read another step through steps.<id>.output');
      return;
    case 'steps':
      if (first !== undefined) checkStepReference(check, first, second, third, context, at);
      return;
    case 'env':
    case 'previous':
      return;
    default:
      at(
        'unknown-name',
        `'${ref.root}' is not in scope`,
        suggestion(ref.root, [...SCOPE_ROOTS, ...(context.ownOutput ? ['output'] : [])]) ?? `expressions read ${SCOPE_ROOTS.join(', ')}`,
      );
  }
}

function checkStepReference(
  check: ExpressionCheck,
  id: string,
  field: string | undefined,
  name: string | undefined,
  context: ExpressionContext,
  at: (code: 'unknown-step' | 'step-not-finished' | 'unknown-name' | 'unknown-output', message: string, hint?: string) => void,
): void {
  const target = check.tree.byId.get(id);
  if (!target) {
    at('unknown-step', `no step has the id '${id}'`, suggestion(id, check.tree.byId.keys()));
    return;
  }
  const ownResult = context.ownOutput && id === context.self;
  const standing = context.relation(target);
  if (!ownResult && standing !== 'before') {
    at(
      'step-not-finished',
      notFinishedMessage(id, target, standing),
      'a step can read only steps that finish before it starts: move it after them, or out of the parallel group',
    );
  }
  if (field !== undefined && !(STEP_RESULT_FIELDS as readonly string[]).includes(field)) {
    at(
      'unknown-name',
      `'steps.${id}.${field}' does not exist`,
      suggestion(field, STEP_RESULT_FIELDS) ?? `a step has: ${STEP_RESULT_FIELDS.join(', ')}`,
    );
    return;
  }
  if (field === 'outputs') recordOutputUse(check, target, id, name, at);
  if (field === 'output' && target.kind === 'action' && target.raw['type'] === 'input') {
    if (name === undefined) check.usage.allInputs = true;
    else check.usage.inputs.add(name);
  }
}

function recordOutputUse(
  check: ExpressionCheck,
  target: StepNode,
  id: string,
  name: string | undefined,
  at: (code: 'unknown-output', message: string, hint?: string) => void,
): void {
  const declared = isRecord(target.raw['outputs']) ? Object.keys(target.raw['outputs']) : [];
  if (name === undefined) {
    check.usage.outputs.set(id, 'all');
    return;
  }
  if (!declared.includes(name)) {
    at(
      'unknown-output',
      `step '${id}' declares no output '${name}'`,
      suggestion(name, declared) ??
        (declared.length
          ? `it declares: ${declared.join(', ')}`
          : `declare it: outputs: { ${name}: \${{ output... }} }, or read steps.${id}.output`),
    );
    return;
  }
  const used = check.usage.outputs.get(id);
  if (used !== 'all') check.usage.outputs.set(id, new Set([...(used ?? []), name]));
}

function notFinishedMessage(id: string, target: StepNode, standing: Relation): string {
  switch (standing) {
    case 'self':
      return `step '${id}' reads its own result before it has finished`;
    case 'concurrent':
      return `step '${id}' runs in parallel with this one, so it may not have finished`;
    case 'enclosing':
      return `step '${id}' encloses or is enclosed by this one, so it has not finished when this is evaluated`;
    case 'later-section':
      return `step '${id}' is in ${target.section}, which does not run before this`;
    default:
      return `step '${id}' runs later, so it has not finished when this is evaluated`;
  }
}

/** Reports at `offset` inside the string value `text` found at `path`. */
function report(
  check: ExpressionCheck,
  path: PathSegment[],
  text: string,
  offset: number,
  length: number,
  code: Parameters<DiagnosticSink['report']>[1],
  message: string,
  hint?: string,
): void {
  const start = offsetInNode(check.sink, path, text, offset);
  const within = start === undefined ? undefined : { start, end: start + Math.max(1, length) };
  check.sink.report(path, code, message, { hint, ...(within ? { within } : {}) });
}
