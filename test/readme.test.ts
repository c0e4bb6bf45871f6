import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_EXECUTORS } from '../src/executors/registry.js';
import { DIAGNOSTIC_CODES } from '../src/model/diagnostic.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('documents every diagnostic code in its table', () => {
    for (const code of Object.keys(DIAGNOSTIC_CODES)) expect(readme).toContain(`| \`${code}\` |`);
  });

  it('documents every step type and alias', () => {
    for (const e of BUILTIN_EXECUTORS) {
      expect(readme).toContain(`\`${e.type}\``);
      for (const alias of e.aliases) expect(readme).toContain(`\`${alias}\``);
    }
  });

  it('gives the set-up and test commands that .ci/run uses', () => {
    const ci = readFileSync(join(import.meta.dirname, '..', '.ci', 'run'), 'utf8');
    expect(readme).toMatch(/^npm install\s+# set-up/m);
    expect(readme).toMatch(/^npm test\s+#/m);
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
  });
});
