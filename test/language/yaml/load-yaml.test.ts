import { describe, expect, it } from 'vitest';
import { loadYaml, MAX_FILE_BYTES } from '../../../src/language/yaml/load-yaml.js';
import { locate } from '../../../src/language/yaml/locate.js';

const codes = (text: string | Uint8Array) => loadYaml('w.yaml', text).diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`);

describe('loadYaml', () => {
  it('reads anchors, aliases and merge keys into plain data', () => {
    const { data, diagnostics } = loadYaml('w.yaml', 'base: &b { timeout: 5m, env: { A: "1" } }\nstep:\n  <<: *b\n  id: x\nagain: *b\n');
    expect(diagnostics).toEqual([]);
    expect(data).toEqual({
      base: { timeout: '5m', env: { A: '1' } },
      step: { timeout: '5m', env: { A: '1' }, id: 'x' },
      again: { timeout: '5m', env: { A: '1' } },
    });
  });

  it('reports a duplicate key at the second one', () => {
    expect(codes('name: a\nsteps: []\nname: b\n')).toEqual(['duplicate-key@3:1']);
  });

  it('reports a syntax error at its line and column, once per line', () => {
    const found = codes('steps:\n  - id: a\n    config: { run: echo ${{ x }} }\n');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^yaml-syntax@3:/);
  });

  it('refuses a file over the size limit without parsing it', () => {
    const big = `a: "${'x'.repeat(MAX_FILE_BYTES)}"\n`;
    const result = loadYaml('w.yaml', big);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['file-too-large']);
    expect(result.data).toBeUndefined();
  });

  it('refuses binary content and invalid UTF-8', () => {
    expect(codes(new Uint8Array([0x6e, 0x61, 0x00, 0x01]))).toEqual(['not-text@1:1']);
    expect(codes(new Uint8Array([0x61, 0x3a, 0x20, 0xff, 0xfe]))).toEqual(['not-text@1:1']);
  });

  it('refuses nesting past the depth limit', () => {
    const deep = `a: ${'['.repeat(80)}${']'.repeat(80)}\n`;
    expect(codes(deep).map((c) => c.split('@')[0])).toEqual(['too-deep']);
  });

  it('refuses block sequences nested 100,000 deep with one diagnostic, never a crash', () => {
    expect(codes(`${'- '.repeat(100_000)}x\n`)).toEqual(['too-deep@1:129']);
  });

  it('points at the 65th level however deep a document nests, composed or refused before', () => {
    // Up to 256 levels the composed document is checked; past them the syntax tree is refused before composing.
    for (const levels of [65, 200, 256, 257, 300, 5_000]) {
      expect(codes(`${'- '.repeat(levels)}x\n`)).toEqual(['too-deep@1:129']);
      expect(codes(`a: ${'['.repeat(levels)}${']'.repeat(levels)}\n`)).toEqual(['too-deep@1:67']);
      expect(codes(`a: ${'{b: '.repeat(levels)}1${'}'.repeat(levels)}\n`)).toEqual(['too-deep@1:256']);
    }
  });

  it('points where the composed check points when several branches or a collection key are too deep', () => {
    const flow = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const block = (levels: number) => Array.from({ length: levels }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
    for (const levels of [200, 300]) {
      // The first branch too deep, in the order of the text, though a later one is deeper.
      expect(codes(`a: ${flow(70)}\nb: ${flow(levels)}\n`)).toEqual(['too-deep@1:67']);
      // A collection as a key is refused wherever it is; the value of the same pair comes first.
      expect(codes(`? [x]\n: 1\nb: ${flow(levels)}\n`)).toEqual(['too-deep@1:3']);
      expect(codes(`? [x]\n: ${flow(levels)}\n`)).toEqual(['too-deep@2:66']);
      expect(codes(`${block(levels)} end\n`)).toEqual(['too-deep@65:129']);
    }
  });

  it('reports more than one document, however deep the later ones nest', () => {
    const deep = `${'['.repeat(300)}${']'.repeat(300)}\n`;
    for (const text of [`a: 1\n---\n${deep}`, `a: 1\n---\nb: 2\n---\n${deep}`, `a: 1\n---\nb: 2\n---\nc: 3\n---\n${deep}`]) {
      expect(codes(text)).toEqual(['yaml-syntax@2:1']);
    }
  });

  it('accepts nesting up to the limit', () => {
    expect(codes(`a: ${'['.repeat(60)}${']'.repeat(60)}\n`)).toEqual([]);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    let text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    const names = 'abcdefghij';
    for (let i = 1; i < names.length; i++)
      text += `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]\n`;
    const started = Date.now();
    // Reported at the first alias that alone expands past reason: `*d` at line 5 col 8 (7,381 nodes).
    expect(codes(text)).toEqual(['alias-limit@5:8']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('allows one anchor to be reused a thousand times', () => {
    let text = 'd: &d { timeout: 5m }\nsteps:\n';
    for (let i = 0; i < 1000; i++) text += `  - { <<: *d, id: s${i} }\n`;
    expect(codes(text)).toEqual([]);
  });
});

describe('locate', () => {
  it('finds values through aliases and merge keys', () => {
    const { doc } = loadYaml('w.yaml', 'base: &b\n  timeout: 5m\nstep:\n  <<: *b\n  id: x\n');
    const found = locate(doc!, ['step', 'timeout']);
    expect(found.exact).toBe(true);
    expect(found.node?.range?.[0]).toBe('base: &b\n  timeout: '.length);
  });

  it('falls back to the deepest existing ancestor', () => {
    const { doc } = loadYaml('w.yaml', 'steps:\n  - id: a\n');
    const found = locate(doc!, ['steps', 0, 'config', 'url']);
    expect(found.exact).toBe(false);
  });
});

describe('loadYaml on faults the parser finds late', () => {
  it('reports a merge key whose source is not a mapping, at the << key', () => {
    expect(codes('a: 1\nb:\n  <<: [1, 2]\n  c: 3\n')).toEqual(['yaml-syntax@3:3']);
  });
});
