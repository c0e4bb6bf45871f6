import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_EXECUTORS } from '../../../src/executors/registry.js';
import { nodeHost } from '../../../src/language/node-host.js';
import { buildWorkflowSchema, configDefName } from '../../../src/language/schema/workflow-schema.js';
import { validateFile } from '../../../src/language/validate.js';
import { validateText } from '../../helpers/validate.js';

const root = join(import.meta.dirname, '..', '..', '..');

describe('workflow schema', () => {
  it('the committed schema/workflow.schema.json is what the sources generate (run `npm run schema` to refresh)', () => {
    const committed = JSON.parse(readFileSync(join(root, 'schema', 'workflow.schema.json'), 'utf8'));
    expect(committed).toEqual(buildWorkflowSchema());
  });

  it('is draft 2020-12 and holds each executor config schema', () => {
    const schema = buildWorkflowSchema() as { $schema: string; $defs: Record<string, unknown> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    for (const e of BUILTIN_EXECUTORS) expect(schema.$defs[configDefName(e.type)]).toEqual(e.configSchema);
  });

  it.each([
    ['process', 'shell', '{ run: "echo hi" }'],
    ['integration', 'http', '{ url: "http://127.0.0.1/" }'],
    ['ai', 'ai_processing', '{ model: m, prompt: hi }'],
  ])('accepts the alias %s for %s and checks its config with that schema', async (alias) => {
    const ok = await validateText(`steps:\n  - id: a\n    type: ${alias}\n    config: ${aliasConfig(alias)}\n`);
    expect(ok).toEqual([]);
    const bad = await validateText(`steps:\n  - id: a\n    type: ${alias}\n    config: { nonsense: 1 }\n`);
    expect(bad.map((d) => d.code)).toContain('unknown-key');
  });

  describe('every file in workflows/', () => {
    const files = readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.yaml'));
    it('there are examples', () => expect(files.length).toBeGreaterThanOrEqual(3));
    it.each(files)('%s starts with the schema modeline and validates without a diagnostic', async (file) => {
      const path = join(root, 'workflows', file);
      expect(readFileSync(path, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/workflow.schema.json');
      const result = await validateFile(path, nodeHost);
      expect(result.diagnostics).toEqual([]);
      expect(result.workflow?.steps.length).toBeGreaterThan(0);
    });
  });
});

function aliasConfig(alias: string): string {
  return { process: '{ run: "echo hi" }', integration: '{ url: "http://127.0.0.1/" }', ai: '{ model: m, prompt: hi }' }[alias]!;
}
