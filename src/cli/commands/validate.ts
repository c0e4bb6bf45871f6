import { nodeHost } from '../../language/node-host.js';
import { validateFile, type ValidationResult } from '../../language/validate.js';
import type { Diagnostic } from '../../model/diagnostic.js';
import { EXIT, UsageError } from '../../model/errors.js';
import {
  formatDiagnosticGithub,
  formatDiagnosticsJson,
  formatDiagnosticText,
  plainStyle,
  summarize,
  type DiagnosticFormat,
  type TextStyle,
} from '../../report/diagnostics.js';
import { expandFileArguments } from '../files.js';
import type { CommandIO } from '../io.js';

export interface ValidateOptions {
  format: string;
  strict?: boolean;
}

const FORMATS: readonly DiagnosticFormat[] = ['text', 'json', 'github'];

// `flow validate FILE...`: every problem of every file in one run; exit 0 when valid, 2 when not.
export async function validateCommand(patterns: string[], options: ValidateOptions, io: CommandIO): Promise<number> {
  const format = options.format as DiagnosticFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`unknown --format '${options.format}'`, `use one of: ${FORMATS.join(', ')}`);
  const files = await expandFileArguments(patterns, io.cwd);
  const results: ValidationResult[] = [];
  for (const file of files) results.push(await validateFile(file, nodeHost, { cwd: io.cwd }));
  const diagnostics = results.flatMap((r) => r.diagnostics);
  io.stdout(render(format, diagnostics, results, io.isTTY ? await ttyStyle() : plainStyle));
  if (format === 'text') io.stderr(summarize(diagnostics, files.length));
  const failed = diagnostics.some((d) => d.severity === 'error' || (options.strict && d.severity === 'warning'));
  return failed ? EXIT.invalid : EXIT.ok;
}

function render(format: DiagnosticFormat, diagnostics: Diagnostic[], results: ValidationResult[], style: TextStyle): string {
  if (format === 'json') return formatDiagnosticsJson(diagnostics);
  if (format === 'github') return diagnostics.map(formatDiagnosticGithub).join('\n');
  const sources = new Map(results.map((r) => [r.file, r.source]));
  return diagnostics.map((d) => formatDiagnosticText(d, style, (file, line) => sources.get(file)?.line(line))).join('\n\n');
}

// chalk is loaded only for a terminal: piped and CI output is plain text.
async function ttyStyle(): Promise<TextStyle> {
  const { default: chalk } = await import('chalk');
  return { snippets: true, error: chalk.red.bold, warning: chalk.yellow.bold, dim: chalk.dim, bold: chalk.bold };
}
