import { describe, expect, it } from 'vitest';
import { resolveInputs } from '../../src/engine/inputs.js';
import { InputError } from '../../src/model/errors.js';
import type { InputSpec } from '../../src/model/workflow.js';

const at = { file: 'w.yaml', line: 1, column: 1, path: '' };
const spec = (name: string, type: InputSpec['type'], extra: Partial<InputSpec> = {}): InputSpec => ({
  name,
  type,
  required: false,
  secret: false,
  at,
  ...extra,
});

describe('resolveInputs', () => {
  it('converts command-line text to the declared types and fills defaults', () => {
    const declared = [
      spec('n', 'integer'),
      spec('x', 'number'),
      spec('b', 'boolean'),
      spec('o', 'object'),
      spec('l', 'array'),
      spec('s', 'string', { default: 'dflt' }),
    ];
    expect(resolveInputs(declared, { n: '42', x: '1.5', b: 'true', o: '{"a":1}', l: '[1,2]' })).toEqual({
      n: 42,
      x: 1.5,
      b: true,
      o: { a: 1 },
      l: [1, 2],
      s: 'dflt',
    });
  });

  it('keeps typed values from an inputs file', () => {
    expect(resolveInputs([spec('n', 'integer'), spec('l', 'array')], { n: 7, l: ['a'] })).toEqual({ n: 7, l: ['a'] });
  });

  it.each([
    [[spec('n', 'integer')], { n: '4.5' }, "input 'n' must be an integer"],
    [[spec('b', 'boolean')], { b: 'yes' }, "input 'b' must be true or false"],
    [[spec('o', 'object')], { o: '[1]' }, "input 'o' must be an object"],
    [[spec('r', 'string', { required: true })], {}, "input 'r' is required"],
    [[spec('e', 'string', { enum: ['pdf', 'txt'] })], { e: 'doc' }, 'input \'e\' is "doc"; it must be one of: "pdf", "txt"'],
    [[spec('a', 'string')], { b: 'x' }, "unknown input 'b'"],
  ])('rejects %#: %s', (declared, given, message) => {
    const err = (() => {
      try {
        resolveInputs(declared, given);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(message);
  });
});
