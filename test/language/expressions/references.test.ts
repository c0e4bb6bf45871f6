import { describe, expect, it } from 'vitest';
import { analyzeExpression } from '../../../src/language/expressions/references.js';

const refs = (source: string) => {
  const r = analyzeExpression(source);
  if (!r.ok) throw new Error(r.message);
  return r.references.map((x) => [x.root, ...x.path].join('.'));
};

describe('analyzeExpression', () => {
  it.each([
    ['steps.fetch.output.body', ['steps.fetch.output.body']],
    ['inputs.a & "-" & inputs.b', ['inputs.a', 'inputs.b']],
    ['$count(item) + index', ['item', 'index']],
    ['{"x": inputs.x, "y": [run.id]}', ['inputs.x', 'run.id']],
    ['steps.a.output.pages[type = "x"].n', ['steps.a.output.pages']],
    ['inputs.flag ? steps.a.output : steps.b.output', ['inputs.flag', 'steps.a.output', 'steps.b.output']],
    ['$map(inputs.list, function($v) { $v.name })', ['inputs.list']],
    ['42', []],
  ])('%s reads %j', (source, expected) => {
    expect(refs(source)).toEqual(expected);
  });

  it('gives the offsets of the root name', () => {
    const r = analyzeExpression('  inputs.x');
    expect(r.ok && r.references[0]).toMatchObject({ root: 'inputs', start: 2, end: 8 });
  });

  it.each(['steps.[', 'inputs.x +', '"unterminated', '(1'])('rejects %j with a message and an offset inside the source', (source) => {
    const r = analyzeExpression(source);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message.length).toBeGreaterThan(5);
      expect(r.offset).toBeGreaterThanOrEqual(0);
      expect(r.offset).toBeLessThan(source.length);
    }
  });
});
