import { isUtf8 } from 'node:buffer';
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, visit, type Document, type Node } from 'yaml';
import type { Diagnostic, DiagnosticCode } from '../../model/diagnostic.js';
import { NestingTooDeep, parseDocument } from './parse-document.js';
import { SourceText } from './source.js';

export const MAX_FILE_BYTES = 5 * 1024 * 1024;
export const MAX_DEPTH = 64;
// Collections nested this deep in the syntax tree are refused before the document is composed: composed, they would
// nest past MAX_DEPTH anyway (their syntax errors, if any, are then not reported), and composing them recurses once per
// level.
const TREE_NESTING = { refuseAbove: 4 * MAX_DEPTH, reportAt: MAX_DEPTH + 1 };
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
    return refused(
      empty,
      'file-too-large',
      `file is ${mb} MB; workflow files are limited to 5 MB`,
      'split the workflow into sub-workflows (type: workflow)',
    );
  }
  const text = typeof bytes === 'string' ? bytes : decodeText(bytes);
  if (text === undefined) {
    return refused(empty, 'not-text', 'file is not UTF-8 text', 'a workflow is a YAML text file; check the path');
  }
  const source = new SourceText(file, text);
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: source.lineCounter, merge: true, uniqueKeys: true }, TREE_NESTING);
  } catch (err) {
    if (!(err instanceof NestingTooDeep)) throw err;
    return { source, doc: undefined, data: undefined, diagnostics: [tooDeep(source, err.offset, err.offset + 1)] };
  }
  const diagnostics = firstPerLine(doc.errors.map((e) => yamlErrorDiagnostic(source, e.code, e.message, e.pos)));
  // A syntax error leaves a document whose shape is a guess; checking it further would only add noise.
  if (diagnostics.some((d) => d.code === 'yaml-syntax')) return { source, doc, data: undefined, diagnostics };

  const deep = findTooDeep(doc.contents as Node | null, 1);
  if (deep) {
    const range = deep.range ?? [0, 0];
    diagnostics.push(tooDeep(source, range[0], range[1]));
    return { source, doc, data: undefined, diagnostics };
  }
  try {
    const data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return { source, doc, data, diagnostics };
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      const bomb = findAliasBomb(doc);
      const range = bomb?.range ?? [0, 1];
      diagnostics.push(
        at(
          source,
          range[0],
          range[1],
          'alias-limit',
          'aliases expand to too many nodes (an alias bomb?)',
          'reuse anchors less, or write the values out',
        ),
      );
      return { source, doc, data: undefined, diagnostics };
    }
    // The yaml library builds data lazily and finds some faults (a bad merge source) only then.
    const range = /merge/i.test(String(err)) ? findBadMerge(doc)?.range : undefined;
    const message = err instanceof Error ? err.message : String(err);
    diagnostics.push(
      at(
        source,
        range?.[0] ?? 0,
        range?.[1] ?? 1,
        'yaml-syntax',
        message.charAt(0).toLowerCase() + message.slice(1),
        'a merge key (<<) takes a mapping or an alias of one',
      ),
    );
    return { source, doc, data: undefined, diagnostics };
  }
}

function findBadMerge(doc: Document.Parsed): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Pair(_key, pair) {
      const isMerge = isScalar(pair.key) && (pair.key.value === '<<' || pair.key.source === '<<');
      if (!isMerge) return undefined;
      const values = isSeq(pair.value) ? pair.value.items : [pair.value];
      const bad = values.some((v) => !(isMap(v) || (isAlias(v) && isMap(v.resolve(doc)))));
      if (bad) {
        found = pair.key as Node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0) || !isUtf8(bytes)) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function yamlErrorDiagnostic(source: SourceText, yamlCode: string, message: string, pos: [number, number]): Diagnostic {
  if (yamlCode === 'DUPLICATE_KEY') {
    const key = /^("[^"]*"|'[^']*'|[^:\s]+)/.exec(source.text.slice(pos[0]))?.[1] ?? '';
    return at(
      source,
      pos[0],
      pos[0] + key.length,
      'duplicate-key',
      `duplicate key ${key.startsWith('"') || key.startsWith("'") ? key : `'${key}'`} in this mapping`,
      'remove one of the two, or rename it',
    );
  }
  // The yaml library appends "at line N, column M:" and a snippet; we print our own.
  const firstLine = (message.split(/ at line \d+, column \d+/)[0] ?? message).trim();
  let start = pos[0];
  // An unclosed quote is reported at the end of the file; the quote that opened it is what to fix.
  const quote = /missing closing (["'])quote/.exec(firstLine)?.[1];
  if (quote) start = Math.max(0, source.text.lastIndexOf(quote, Math.min(start, source.text.length - 1)));
  start = Math.min(start, source.text.trimEnd().length);
  const unquotedExpression = source.line(source.position(start).line).includes('${{') && /flow|collection|map|seq/i.test(firstLine);
  if (unquotedExpression) {
    return at(
      source,
      start,
      start + 1,
      'yaml-syntax',
      'an unquoted ${{ }} inside { } or [ ] breaks the YAML here',
      "quote the value: run: 'echo ${{ run.id }}'",
    );
  }
  return at(
    source,
    start,
    Math.max(start + 1, pos[1]),
    'yaml-syntax',
    firstLine.charAt(0).toLowerCase() + firstLine.slice(1),
    'fix the YAML syntax here; strings with `: ` or `#` need quotes',
  );
}

// The first alias whose expansion alone is past reason: where an alias bomb is written.
function findAliasBomb(doc: Document.Parsed): Node | undefined {
  const sizes = new Map<Node, number>();
  const size = (node: unknown, depth: number): number => {
    if (!node || typeof node !== 'object' || depth > MAX_DEPTH) return 1;
    const n = node as Node;
    const known = sizes.get(n);
    if (known !== undefined) return known;
    let total = 1;
    if (isAlias(n)) total = size(n.resolve(doc), depth + 1);
    else if (isCollection(n))
      for (const item of n.items) total += isPair(item) ? size(item.key, depth + 1) + size(item.value, depth + 1) : size(item, depth + 1);
    total = Math.min(total, Number.MAX_SAFE_INTEGER);
    sizes.set(n, total);
    return total;
  };
  let found: Node | undefined;
  visit(doc, {
    Alias(_key, alias) {
      if (size(alias, 0) > MAX_ALIAS_COUNT / 10) {
        found = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

// One syntax error makes the parser stumble over the rest of its line; the first report is the one to fix.
function firstPerLine(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<number>();
  return diagnostics.filter((d) => d.code !== 'yaml-syntax' || (!seen.has(d.line) && seen.add(d.line) !== undefined));
}

function tooDeep(source: SourceText, start: number, end: number): Diagnostic {
  return at(source, start, end, 'too-deep', `document nests deeper than ${MAX_DEPTH} levels`, 'flatten the structure');
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
  return {
    source,
    doc: undefined,
    data: undefined,
    diagnostics: [{ file: source.file, line: 1, column: 1, length: 1, severity: 'error', code, message, path: '', hint }],
  };
}

export function at(
  source: SourceText,
  start: number,
  end: number,
  code: DiagnosticCode,
  message: string,
  hint?: string,
  path = '',
): Diagnostic {
  const span = source.span(start, end);
  const d: Diagnostic = {
    file: source.file,
    line: span.line,
    column: span.column,
    length: span.length,
    severity: 'error',
    code,
    message,
    path,
  };
  if (hint) d.hint = hint;
  return d;
}
