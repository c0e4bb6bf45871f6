import type { Document } from 'yaml';
import type { Diagnostic, DiagnosticCode, Severity, SourcePosition } from '../../model/diagnostic.js';
import { locate, pointer, type PathSegment } from './locate.js';
import type { SourceText } from './source.js';

export interface ReportOptions {
  hint?: string | undefined;
  severity?: Severity;
  /** Point at the key of the last path segment rather than its value. */
  onKey?: boolean;
  /** A span inside the located node's source text (offsets relative to the node start). */
  within?: { start: number; end: number };
}

// Collects the diagnostics of one file, turning data paths into line:column through the YAML document.
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly source: SourceText,
    readonly doc: Document | undefined,
  ) {}

  report(path: readonly PathSegment[], code: DiagnosticCode, message: string, options: ReportOptions = {}): void {
    const [start, end] = this.range(path, options);
    const span = this.source.span(start, end);
    const d: Diagnostic = {
      file: this.source.file,
      line: span.line,
      column: span.column,
      length: span.length,
      severity: options.severity ?? 'error',
      code,
      message,
      path: pointer(path),
    };
    if (options.hint) d.hint = options.hint;
    this.diagnostics.push(d);
  }

  /** Where a path starts in the file, for messages that point at a second place and for the model. */
  positionOf(path: readonly PathSegment[]): SourcePosition {
    return this.source.position(this.range(path, {})[0]);
  }

  /** The source text of the value at a path, as written (`1.0`, not the number 1). */
  textAt(path: readonly PathSegment[]): string | undefined {
    const [start, end] = this.range(path, {});
    return end > start ? this.source.text.slice(start, end).trim() : undefined;
  }

  lineOf(path: readonly PathSegment[]): number {
    return this.positionOf(path).line;
  }

  private range(path: readonly PathSegment[], options: ReportOptions): [number, number] {
    if (!this.doc) return [0, 0];
    const found = locate(this.doc, path);
    if (found.viaMerge?.range) return [found.viaMerge.range[0], found.viaMerge.range[1]];
    const target = (options.onKey || !found.exact) && found.key ? found.key : (found.node ?? found.key);
    const range = target?.range;
    if (!range) return [0, 0];
    if (options.within && found.exact && found.node?.range) {
      const base = found.node.range[0];
      return [base + options.within.start, base + options.within.end];
    }
    return [range[0], range[1]];
  }
}

/**
 * Where offset `offset` of the string value `value` (found at `path`) sits in the node's source text,
 * relative to the node's start. Plain and single-line strings hold the value verbatim; block scalars
 * hold it line by line under an indentation. Escaped or folded strings fall back to undefined.
 */
export function offsetInNode(sink: DiagnosticSink, path: readonly PathSegment[], value: string, offset: number): number | undefined {
  if (!sink.doc) return undefined;
  const found = locate(sink.doc, path);
  const range = found.exact && !found.viaMerge ? found.node?.range : undefined;
  if (!range) return undefined;
  const raw = sink.source.text.slice(range[0], range[1]);
  const verbatim = raw.indexOf(value);
  if (verbatim >= 0) return verbatim + offset;
  const valueLines = value.split('\n');
  const before = value.slice(0, offset).split('\n');
  const lineIndex = before.length - 1;
  const column = before[lineIndex]!.length;
  const rawLines = raw.split('\n');
  let rawStart = 0;
  let r = 0;
  for (let v = 0; v <= lineIndex; v++) {
    const wanted = valueLines[v]!;
    while (r < rawLines.length && !(r > 0 && rawLines[r]!.endsWith(wanted) && (wanted !== '' || rawLines[r]!.trim() === ''))) {
      rawStart += rawLines[r]!.length + 1;
      r++;
    }
    if (r >= rawLines.length) return undefined;
    if (v < lineIndex) {
      rawStart += rawLines[r]!.length + 1;
      r++;
    }
  }
  const line = rawLines[r]!;
  return rawStart + (line.length - valueLines[lineIndex]!.length) + column;
}
