import { isAlias, isCollection, isMap, isPair, isScalar, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic, DiagnosticCode } from '../../model/diagnostic.js';
import { SourceText } from './source.js';

export const MAX_FILE_BYTES = 5 * 1024 * 1024;
export const MAX_DEPTH = 64;
// yaml counts (uses of an anchor) x (aliases inside it); 10,000 lets a real file reuse an anchor
// thousands of times while an alias bomb, which multiplies per level, is refused.
export const MAX_ALIAS_COUNT = 10_000;

export interface LoadedYaml {
  source: SourceText;
  doc: Document.Parsed | undefined;
  /** The document as plain data, or undefined when it could not be built. */
  data: unknown;
  diagnostics: Diagnostic[];
}

// Reads YAML text into a positioned document and plain data, refusing hostile or broken input with diagnostics.
export function loadYaml(file: string, bytes: Uint8Array | string): LoadedYaml {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  const empty = new SourceText(file, '');
  if (size > MAX_FILE_BYTES) {
    const mb = (size / 1024 / 1024).toFixed(1);
    return refused(empty, 'file-too-large', `file is ${mb} MB; workflow files are limited to 5 MB`, 'split the workflow into sub-workflows (type: workflow)');
  }
  const text = typeof bytes === 'string' ? bytes : decodeText(bytes);
  if (text === undefined) {
    return refused(empty, 'not-text', 'file is not UTF-8 text', 'a workflow is a YAML text file; check the path');
  }
  const source = new SourceText(file, text);
  const doc = parseDocument(text, { lineCounter: source.lineCounter, merge: true, uniqueKeys: true, prettyErrors: false });
  const diagnostics = firstPerLine(doc.errors.map((e) => yamlErrorDiagnostic(source, e.code, e.message, e.pos)));
  // A syntax error leaves a document whose shape is a guess; checking it further would only add noise.
  if (diagnostics.some((d) => d.code === 'yaml-syntax')) return { source, doc, data: undefined, diagnostics };

  const deep = findTooDeep(doc.contents as Node | null, 1);
  if (deep) {
    const range = deep.range ?? [0, 0];
    diagnostics.push(at(source, range[0], range[1], 'too-deep', `document nests deeper than ${MAX_DEPTH} levels`, 'flatten the structure'));
    return { source, doc, data: undefined, diagnostics };
  }
  try {
    const data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return { source, doc, data, diagnostics };
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      diagnostics.push(at(source, 0, 1, 'alias-limit', 'aliases expand to too many nodes (an alias bomb?)', 'reuse anchors less, or write the values out'));
      return { source, doc, data: undefined, diagnostics };
    }
    throw err;
  }
}

function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    return undefined;
  }
}

function yamlErrorDiagnostic(source: SourceText, yamlCode: string, message: string, pos: [number, number]): Diagnostic {
  if (yamlCode === 'DUPLICATE_KEY') {
    const key = source.text.slice(pos[0], pos[1]).trim() || source.line(source.position(pos[0]).line).trim().split(':')[0];
    return at(source, pos[0], pos[1], 'duplicate-key', `duplicate key '${key}' in this mapping`, 'remove one of the two, or rename it');
  }
  // The yaml library appends "at line N, column M:" and a snippet; we print our own.
  const firstLine = (message.split(/ at line \d+, column \d+/)[0] ?? message).trim();
  const inFlow = source.line(source.position(pos[0]).line).includes('${{');
  const hint = inFlow ? "quote a value holding ${{ }} when it sits inside { } or [ ]: run: 'echo ${{ run.id }}'" : 'fix the YAML syntax here; strings with `: ` or `#` need quotes';
  return at(source, pos[0], pos[1], 'yaml-syntax', firstLine.charAt(0).toLowerCase() + firstLine.slice(1), hint);
}

// One syntax error makes the parser stumble over the rest of its line; the first report is the one to fix.
function firstPerLine(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<number>();
  return diagnostics.filter((d) => d.code !== 'yaml-syntax' || (!seen.has(d.line) && seen.add(d.line) !== undefined));
}

function findTooDeep(node: Node | null | undefined, depth: number): Node | undefined {
  if (!node || !isCollection(node)) return undefined;
  if (depth > MAX_DEPTH) return node;
  for (const item of node.items) {
    const value = isPair(item) ? item.value : item;
    if (value && !isAlias(value) && !isScalar(value)) {
      const found = findTooDeep(value as Node, depth + 1);
      if (found) return found;
    }
    if (isMap(node) && isPair(item) && isCollection(item.key)) return item.key as Node;
  }
  return undefined;
}

function refused(source: SourceText, code: DiagnosticCode, message: string, hint: string): LoadedYaml {
  return { source, doc: undefined, data: undefined, diagnostics: [{ file: source.file, line: 1, column: 1, length: 1, severity: 'error', code, message, path: '', hint }] };
}

export function at(source: SourceText, start: number, end: number, code: DiagnosticCode, message: string, hint?: string, path = ''): Diagnostic {
  const span = source.span(start, end);
  const d: Diagnostic = { file: source.file, line: span.line, column: span.column, length: span.length, severity: 'error', code, message, path };
  if (hint) d.hint = hint;
  return d;
}
