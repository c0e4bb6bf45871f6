// Splits a string into literal text and ${{ }} expressions, as a pure scan that knows JSONata's
// strings and braces, so that `${{ {"a": {"b": 1}} }}` ends at the right `}}`.

export type TemplatePart =
  | { kind: 'text'; text: string }
  | {
      kind: 'expression';
      source: string /** offset of `source` in the whole string */;
      start: number /** offset of the `${{` */;
      open: number;
    };

export interface ParsedTemplate {
  parts: TemplatePart[];
  /** An unclosed `${{`, with its offset. */
  unclosedAt?: number;
}

export function parseTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let i = 0;
  let literal = '';
  while (i < text.length) {
    const open = text.indexOf('${{', i);
    if (open < 0) break;
    literal += text.slice(i, open);
    const close = findClose(text, open + 3);
    if (close < 0) {
      if (literal) parts.push({ kind: 'text', text: literal });
      return { parts, unclosedAt: open };
    }
    if (literal) parts.push({ kind: 'text', text: literal });
    literal = '';
    parts.push({ kind: 'expression', source: text.slice(open + 3, close), start: open + 3, open });
    i = close + 2;
  }
  literal += text.slice(i);
  if (literal) parts.push({ kind: 'text', text: literal });
  return { parts };
}

function findClose(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0 && text[i + 1] === '}') return i;
      depth = Math.max(0, depth - 1);
    }
  }
  return -1;
}

export function hasExpression(text: string): boolean {
  return text.includes('${{');
}

/** The expression source when the whole string (trimmed) is exactly one ${{ }}: its value keeps its type. */
export function singleExpression(text: string): string | undefined {
  const { parts, unclosedAt } = parseTemplate(text.trim());
  if (unclosedAt !== undefined || parts.length !== 1) return undefined;
  const only = parts[0]!;
  return only.kind === 'expression' ? only.source : undefined;
}
