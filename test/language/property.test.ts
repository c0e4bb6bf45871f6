import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/language/node-host.js';
import { validateSource } from '../../src/language/validate.js';
import { DIAGNOSTIC_CODES } from '../../src/model/diagnostic.js';

const examples = readdirSync(join(import.meta.dirname, '..', '..', 'workflows'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(join(import.meta.dirname, '..', '..', 'workflows', f), 'utf8'));

// Whatever the input, validation answers with diagnostics or success: it never throws.
async function validatesWithoutThrowing(text: string): Promise<void> {
  const result = await validateSource('fuzz.yaml', text, nodeHost, { path: '/nonexistent/fuzz.yaml' });
  for (const d of result.diagnostics) {
    expect(d.code in DIAGNOSTIC_CODES).toBe(true);
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.column).toBeGreaterThanOrEqual(1);
  }
  expect(result.valid).toBe(!result.diagnostics.some((d) => d.severity === 'error'));
}

const yamlish = fc.stringMatching(/^[ a-z_:\-\n{}[\],"'$&*!|>#.0-9]{0,200}$/);

const mutation = fc.record({
  example: fc.integer({ min: 0, max: examples.length - 1 }),
  at: fc.nat(),
  cut: fc.nat({ max: 20 }),
  insert: fc.oneof(
    fc.constantFrom(': ', '- ', '${{', '}}', '\n  ', '[', '{', '&a ', '*a', '"', "'", '\t', '<<: ', 'id: x\n', 'type: shell', '${{ steps.'),
    fc.string({ maxLength: 8 }),
  ),
});

describe('validation never throws', () => {
  it('on random YAML-like text', async () => {
    await fc.assert(fc.asyncProperty(yamlish, validatesWithoutThrowing), { numRuns: 300 });
  });

  it('on mutated example workflows', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async ({ example, at, cut, insert }) => {
        const text = examples[example]!;
        const i = at % (text.length + 1);
        await validatesWithoutThrowing(text.slice(0, i) + insert + text.slice(i + cut));
      }),
      { numRuns: 400 },
    );
  });

  it('on arbitrary JSON values as documents', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), (v) => validatesWithoutThrowing(JSON.stringify(v))),
      { numRuns: 200 },
    );
  });
});
