import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../../../src/language/node-host.js';
import { validateFile } from '../../../src/language/validate.js';

let dir: string;
const write = (name: string, text: string) => {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};
const check = async (name: string) => (await validateFile(join(dir, name), nodeHost)).diagnostics.map((d) => `${d.code}@${d.line}`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flow-modules-'));
  write(
    'steps/greet.js',
    `export const configSchema = { type: 'object', properties: { who: { type: 'string' } }, required: ['who'], additionalProperties: false };\nexport async function execute(config) { return 'hi ' + config.who; }\n`,
  );
  write(
    'steps/check.mjs',
    `export function validate(config) { return config.size > 10 ? ['size must be at most 10'] : []; }\nexport async function execute() { return 1; }\n`,
  );
  write('steps/no-execute.js', `export const configSchema = {};\n`);
  write('steps/throws.js', `throw new Error('boom at load');\n`);
});

describe('custom executors', () => {
  it('loads the module and checks each step config against its configSchema', async () => {
    write(
      'custom.yaml',
      'executors:\n  greet: ./steps/greet.js\nsteps:\n  - id: a\n    type: greet\n    config: { who: ada }\n  - id: b\n    type: greet\n    config: { whom: ada }\n',
    );
    expect(await check('custom.yaml')).toEqual(['missing-key@9', 'unknown-key@9']);
  });

  it('runs an exported validate(config) and reports what it returns', async () => {
    write('validate.yaml', 'executors:\n  check: ./steps/check.mjs\nsteps:\n  - id: a\n    type: check\n    config: { size: 11 }\n');
    expect(await check('validate.yaml')).toEqual(['invalid-value@6']);
  });

  it('reports a module that is missing, has no execute, or fails to load', async () => {
    write(
      'bad.yaml',
      'executors:\n  gone: ./steps/gone.js\n  noexec: ./steps/no-execute.js\n  throws: ./steps/throws.js\n  shell: ./steps/greet.js\nsteps:\n  - { id: a, type: gone }\n',
    );
    expect(await check('bad.yaml')).toEqual(['executor-not-found@2', 'executor-invalid@3', 'executor-invalid@4', 'invalid-value@5']);
  });
});

describe('sub-workflows', () => {
  it('accepts an existing file and reports a missing one', async () => {
    write('child.yaml', 'steps:\n  - { id: c, type: transform, config: { value: 1 } }\n');
    write(
      'parent.yaml',
      'steps:\n  - { id: a, type: workflow, config: { path: child.yaml } }\n  - { id: b, type: workflow, config: { path: nowhere.yaml } }\n',
    );
    expect(await check('parent.yaml')).toEqual(['workflow-not-found@3']);
  });

  it('reports a file that includes itself, directly or through another', async () => {
    write('self.yaml', 'steps:\n  - { id: a, type: workflow, config: { path: ./self.yaml } }\n');
    expect(await check('self.yaml')).toEqual(['workflow-cycle@2']);
    write('loop/a.yaml', 'steps:\n  - { id: a, type: workflow, config: { path: b.yaml } }\n');
    write('loop/b.yaml', 'steps:\n  - { id: b, type: workflow, config: { path: ../loop/a.yaml } }\n');
    const result = await validateFile(join(dir, 'loop/a.yaml'), nodeHost);
    expect(result.diagnostics.map((d) => d.message)).toEqual(["workflow 'b.yaml' includes itself: a.yaml -> b.yaml -> a.yaml"]);
  });
});
