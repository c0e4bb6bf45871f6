import { describe, expect, it } from 'vitest';
import { parseTemplate, singleExpression } from '../../../src/language/expressions/template.js';

describe('parseTemplate', () => {
  it.each([
    ['plain text', [{ kind: 'text', text: 'plain text' }]],
    ['${{ a }}', [{ kind: 'expression', source: ' a ', start: 3, open: 0 }]],
    [
      'x ${{ a }} y',
      [
        { kind: 'text', text: 'x ' },
        { kind: 'expression', source: ' a ', start: 5, open: 2 },
        { kind: 'text', text: ' y' },
      ],
    ],
    ['${{ {"a": {"b": 1}} }}', [{ kind: 'expression', source: ' {"a": {"b": 1}} ', start: 3, open: 0 }]],
    ['${{ "}}" }}', [{ kind: 'expression', source: ' "}}" ', start: 3, open: 0 }]],
    [
      '${{a}}${{b}}',
      [
        { kind: 'expression', source: 'a', start: 3, open: 0 },
        { kind: 'expression', source: 'b', start: 9, open: 6 },
      ],
    ],
  ])('%s', (text, parts) => {
    expect(parseTemplate(text)).toEqual({ parts });
  });

  it('reports an unclosed ${{ with its offset', () => {
    expect(parseTemplate('ok ${{ inputs.x ').unclosedAt).toBe(3);
  });
});

describe('singleExpression', () => {
  it.each([
    ['${{ inputs.n }}', ' inputs.n '],
    ['  ${{ inputs.n }}  ', ' inputs.n '],
    ['n=${{ inputs.n }}', undefined],
    ['${{ a }}${{ b }}', undefined],
    ['text', undefined],
  ])('%j -> %j', (text, expected) => {
    expect(singleExpression(text)).toBe(expected);
  });
});
