import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CST, LineCounter, parseDocument as yamlParseDocument, stringify } from 'yaml';
import { Parser } from '../../../src/generated/yaml-parser.mjs';
import { parseDocument } from '../../../src/language/yaml/parse-document.js';

const options = () => ({ lineCounter: new LineCounter(), merge: true, uniqueKeys: true, prettyErrors: false });

// Everything a caller reads from a document: its data, its errors and warnings where they are, its nodes' ranges.
function observed(text: string, parse: typeof parseDocument) {
  const doc = parse(text, options());
  const attempt = (read: () => unknown) => {
    try {
      return read();
    } catch (err) {
      return `threw ${String(err)}`;
    }
  };
  return {
    data: attempt(() => doc.toJS({ maxAliasCount: 10_000 })),
    errors: doc.errors.map((e) => [e.code, e.pos, e.message]),
    warnings: doc.warnings.map((e) => [e.code, e.pos]),
    text: attempt(() => doc.toString()),
    range: doc.contents?.range,
  };
}

function samePerBoth(text: string): void {
  expect(observed(text, parseDocument)).toEqual(observed(text, yamlParseDocument));
}

const workflows = join(import.meta.dirname, '..', '..', '..', 'workflows');

describe('parseDocument', () => {
  it('composes what the yaml package composes, for every example workflow', () => {
    for (const f of readdirSync(workflows).filter((n) => n.endsWith('.yaml'))) samePerBoth(readFileSync(join(workflows, f), 'utf8'));
  });

  it('composes anchors, aliases, merges, comments, errors and extra documents alike', () => {
    const steps = Array.from({ length: 40 }, (_, i) => `  - id: s${i}\n    <<: *base\n    # step ${i}\n    run: echo ${i}\n`).join('');
    for (const text of [
      '',
      '# only a comment\n',
      `base: &base { timeout: 5m }\nsteps:\n${steps}later: *base\n`,
      `steps:\n${steps}`,
      `a: 1\n---\nb: 2\n`,
      `steps:\n${steps}  - id: s0\n`.replace('id: s39', 'id: s39\n    id: again'),
      `steps:\n${steps}    bad: [unclosed\n`,
      `steps:\n${steps}   - misaligned: true\n`,
    ]) {
      samePerBoth(text);
    }
  });

  it('composes what the yaml package composes for generated documents', () => {
    // Collections of 16 items or more, the ones let go of, inside and around smaller ones.
    const value = fc.jsonValue({ maxDepth: 3 });
    const many = fc.oneof(
      fc.array(value, { minLength: 16, maxLength: 40 }),
      fc.dictionary(fc.string(), value, { minKeys: 16, maxKeys: 30 }),
    );
    fc.assert(
      fc.property(many, value, fc.boolean(), (steps, v, flow) =>
        samePerBoth(stringify({ steps, more: [v, steps, v] }, { collectionStyle: flow ? 'flow' : 'block' })),
      ),
      { numRuns: 200 },
    );
  });

  it('lets go of a large block collection as the composer passes it', () => {
    const text = `steps:\n${Array.from({ length: 100 }, (_, i) => `  - { id: s${i}, run: echo }\n`).join('')}`;
    const seen: CST.Token[] = [];
    const parse = Parser.prototype.parse;
    // The tokens the parser hands over, to look at the tree once the document is composed.
    Parser.prototype.parse = function (this: Parser, source, incomplete, onToken) {
      parse.call(this, source, incomplete, (token) => {
        seen.push(token);
        onToken(token);
      });
    };
    try {
      const doc = parseDocument(text, options());
      expect((doc.toJS() as { steps: unknown[] }).steps).toHaveLength(100);
    } finally {
      Parser.prototype.parse = parse;
    }
    const document = seen.find((t): t is CST.Document => t.type === 'document');
    const root = document?.value as CST.BlockMap;
    const stepsSeq = root.items[0]?.value as CST.BlockSequence;
    expect(stepsSeq.type).toBe('block-seq');
    expect([...Array(stepsSeq.items.length).keys()].every((i) => stepsSeq.items[i] === undefined)).toBe(true);
  });
});
