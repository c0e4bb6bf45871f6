import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Parser as YamlParser, stringify } from 'yaml';
import { Parser } from '../../../src/generated/yaml-parser.mjs';
import { writeYamlParser } from '../../../scripts/yaml-parser.mjs';

const root = join(import.meta.dirname, '..', '..', '..');

// What each parser hands over, in the order it does: each token as it is when handed over (a document handed over
// before it is complete would differ), and each newline offset between them.
function tokensOf(text: string, generators: boolean): string[] {
  const seen: string[] = [];
  const newline = (n: number) => seen.push(`newline ${n}`);
  if (generators) for (const t of new YamlParser(newline).parse(text)) seen.push(JSON.stringify(t));
  else new Parser(newline).parse(text, false, (t) => seen.push(JSON.stringify(t)));
  return seen;
}

function samePerBoth(text: string): void {
  expect(tokensOf(text, false)).toEqual(tokensOf(text, true));
}

describe("yaml's parser without generators", () => {
  it('hands over the tokens yaml hands over, for every example workflow', () => {
    const dir = join(root, 'workflows');
    const files = readdirSync(dir).filter((n) => n.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) samePerBoth(readFileSync(join(dir, f), 'utf8'));
  });

  it('hands over the same tokens for every kind of YAML and its errors', () => {
    for (const text of [
      '',
      ' \n\t\n',
      '\uFEFFa: 1\n',
      '%YAML 1.2\n%TAG !e! tag:example.com,2000:\n--- !e!map\na: 1\n...\n---\nb: [1, {c: d}]\n',
      "a: |+2\n    kept\n\n\nb: >-\n  folded\n  text\nc: \"esc \\\" \\n \\x41\"\nd: 'it''s'\n",
      'anchor: &x { k: v, l: [1, 2] }\nalias: *x\ntagged: !!str 12\n? complex key\n: value\n',
      'a: 1\r\nb:\r\n  - x\r\n  - y\r\n',
      'steps:\n  - id: a\n   bad: indent\n  - [unclosed\nc: "open\n',
      '- - - - x\n  - y\n- ]\n}{\n',
      'key: value # comment\n# alone\nlist:\n- a\n-\n- c\n',
      'a: b: c\n: x\n?\n@at\n`tick\n',
      '%TAG !e! tag:example.com,2000:app/\n---\na: !<tag:yaml.org,2002:str> x\nb: !e!%21f y\nc: !!binary |\n  AAEC\n',
      '!<unclosed x\n',
    ]) {
      samePerBoth(text);
    }
  });

  it('hands over the same tokens for generated documents', () => {
    const value = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(value, fc.boolean(), fc.integer({ min: 2, max: 6 }), (v, flow, indent) =>
        samePerBoth(stringify(v, { collectionStyle: flow ? 'flow' : 'any', indent, lineWidth: 40 })),
      ),
      { numRuns: 300 },
    );
  });

  it('hands over the same tokens and errors for text made of YAML punctuation', () => {
    const char = fc.constantFrom(
      ...'-:?,[]{}#&*!|><\'"%@`. \t\n\r\\ax1'.split(''),
      '---',
      '...',
      '\n  ',
      '- ',
      ': ',
      '!<',
      '%TAG ',
      '%YAML ',
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 120 }), (chars) => samePerBoth(chars.join(''))),
      { numRuns: 2000 },
    );
  });
});

describe('scripts/yaml-parser.mjs', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  // A copy of the yaml package with one file changed, and what the script makes of it.
  function writeFrom(file: 'lexer.js' | 'parser.js', change: (text: string) => string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'flow-yaml-parser-'));
    made.push(dir);
    const yaml = join(dir, 'node_modules', 'yaml');
    cpSync(join(root, 'node_modules', 'yaml', 'package.json'), join(yaml, 'package.json'));
    cpSync(join(root, 'node_modules', 'yaml', 'browser', 'dist', 'parse'), join(yaml, 'browser', 'dist', 'parse'), { recursive: true });
    const path = join(yaml, 'browser', 'dist', 'parse', file);
    writeFileSync(path, change(readFileSync(path, 'utf8')));
    return writeYamlParser(dir, dir);
  }

  it('writes modules with no generator left from the yaml package as it is', async () => {
    await writeFrom('lexer.js', (t) => t);
    const dir = made.at(-1) as string;
    for (const f of ['yaml-lexer.mjs', 'yaml-parser.mjs']) {
      const code = readFileSync(join(dir, f), 'utf8').replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '');
      expect(code).not.toMatch(/\byield\b|^\s*\*\s*\w+\(/m);
      expect(code).toMatch(/this\.onToken\(/);
    }
  });

  it('refuses a yaml whose code no longer fits its rewriting', async () => {
    await expect(
      writeFrom('parser.js', (t) => t.replace('yield* this.end();', 'yield* this.end();\n        this.done = true;')),
    ).rejects.toThrow(
      /yaml's parser\.js parse\(\) is not the code this build knows: scripts\/yaml-parser\.mjs needs to be brought up to date/,
    );
    await expect(writeFrom('lexer.js', (t) => t.replace('yield DOCUMENT;', 'const d = yield DOCUMENT;'))).rejects.toThrow(
      /lexer\.js uses the value of a `yield`/,
    );
    await expect(
      writeFrom('lexer.js', (t) =>
        t.replace("import { BOM, DOCUMENT, FLOW_END, SCALAR } from './cst.js';", "import * as cst from './cst.js';"),
      ),
    ).rejects.toThrow(/lexer\.js no longer starts with/);
    await expect(writeFrom('parser.js', (t) => `${t}\nfunction* extra() { yield 1; }\n`)).rejects.toThrow(
      /a generator that is not a method/,
    );
    // Called without yield*, a generator's body never runs: a call that takes its generator object cannot be rewritten.
    await expect(
      writeFrom('lexer.js', (t) => t.replace('            this.pushNewline();', '            const nl = this.pushNewline();')),
    ).rejects.toThrow(/lexer\.js uses pushNewline\(\)'s generator object/);
  });

  it('drops a generator call made without yield*, whose body never ran in yaml', async () => {
    await writeFrom('lexer.js', (t) => t);
    const lexer = readFileSync(join(made.at(-1) as string, 'yaml-lexer.mjs'), 'utf8');
    expect(lexer).toContain('/* this.pushNewline() without yield*, which never ran */;');
    const original = readFileSync(join(root, 'node_modules', 'yaml', 'browser', 'dist', 'parse', 'lexer.js'), 'utf8');
    const calls = (text: string, call: string) => text.split(call).length - 1;
    expect(calls(lexer, 'this.pushNewline();')).toBe(calls(original, 'yield* this.pushNewline();'));
  });
});
