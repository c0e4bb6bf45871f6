import type { Diagnostic } from '../model/diagnostic.js';

export type DiagnosticFormat = 'text' | 'json' | 'github';

export interface TextStyle {
  snippets: boolean;
  error(s: string): string;
  warning(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export const plainStyle: TextStyle = { snippets: false, error: (s) => s, warning: (s) => s, dim: (s) => s, bold: (s) => s };

/** Source lines by file, for snippets. */
export type LineSource = (file: string, line: number) => string | undefined;

// `file:line:col: severity code: message`, then the snippet with a caret (in a terminal), then the hint.
export function formatDiagnosticText(d: Diagnostic, style: TextStyle, lines: LineSource): string {
  const severity = d.severity === 'error' ? style.error('error') : style.warning('warning');
  const out = [`${style.bold(`${d.file}:${d.line}:${d.column}`)}: ${severity} ${d.code}: ${d.message}`];
  const text = style.snippets ? lines(d.file, d.line) : undefined;
  if (text !== undefined) {
    const gutter = String(d.line);
    const pad = ' '.repeat(gutter.length);
    const expanded = text.replace(/\t/g, ' ');
    out.push(style.dim(` ${gutter} | `) + expanded);
    const caret = ' '.repeat(Math.max(0, d.column - 1)) + '^'.repeat(Math.max(1, Math.min(d.length, expanded.length - d.column + 1)));
    out.push(style.dim(` ${pad} | `) + (d.severity === 'error' ? style.error(caret) : style.warning(caret)));
  }
  if (d.hint) out.push(`  ${style.dim('hint:')} ${d.hint}`);
  return out.join('\n');
}

export function formatDiagnosticsJson(diagnostics: readonly Diagnostic[]): string {
  const rows = diagnostics.map((d) => ({
    file: d.file,
    line: d.line,
    column: d.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
    path: d.path,
    hint: d.hint ?? null,
  }));
  return JSON.stringify(rows, null, 2);
}

// GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request's diff.
export function formatDiagnosticGithub(d: Diagnostic): string {
  const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const command = d.severity === 'error' ? 'error' : 'warning';
  const message = d.hint ? `${d.message}\n${d.hint}` : d.message;
  return `::${command} file=${escapeProperty(d.file)},line=${d.line},col=${d.column},title=${escapeProperty(d.code)}::${escapeData(message)}`;
}

export function summarize(diagnostics: readonly Diagnostic[], files: number): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (errors === 0 && warnings === 0) return `${plural(files, 'file')} valid`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(files, 'file')}`;
}
