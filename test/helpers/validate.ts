import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import type { Diagnostic } from '../../src/model/diagnostic.js';

/** Validates YAML text as if it were `file` (relative module paths resolve against `dir`). */
export async function validateText(text: string, dir = process.cwd()): Promise<Diagnostic[]> {
  const result = await validateSource('test.yaml', text, nodeHost, { path: `${dir}/test.yaml` });
  return result.diagnostics;
}

/** `code@line` for each diagnostic, in order: a compact thing to compare. */
export const codesAt = (diagnostics: Diagnostic[]): string[] => diagnostics.map((d) => `${d.code}@${d.line}`);
