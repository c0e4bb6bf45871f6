import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_DIR = join(import.meta.dirname, '..', 'report', 'golden');

/**
 * Compares a reporter's text with test/report/golden/<name>. `UPDATE_GOLDEN=1 npx vitest run …` rewrites the file
 * instead: read the diff before keeping it, the golden file is the specification.
 */
export function expectGolden(name: string, text: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path)) throw new Error(`no golden file ${path}: run the test with UPDATE_GOLDEN=1 to write it, then read it`);
  expect(text, `differs from ${path} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(path, 'utf8'));
}
