import { LineCounter } from 'yaml';
import type { SourcePosition } from '../../model/diagnostic.js';

// The text of one workflow file and the means to turn offsets into line:column.
export class SourceText {
  readonly lineCounter = new LineCounter();
  private lines: string[] | undefined;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  position(offset: number): SourcePosition {
    const pos = this.lineCounter.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line: pos.line, column: pos.col };
  }

  line(n: number): string {
    this.lines ??= this.text.split(/\r?\n/);
    return this.lines[n - 1] ?? '';
  }

  /** Line, column and caret length for the span [start, end), clipped to the first line. */
  span(start: number, end: number): SourcePosition & { length: number } {
    const pos = this.position(start);
    const lineText = this.line(pos.line);
    const rest = Math.max(1, lineText.length - (pos.column - 1));
    return { ...pos, length: Math.max(1, Math.min(end - start, rest)) };
  }
}
