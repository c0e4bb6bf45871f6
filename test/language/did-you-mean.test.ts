import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../../src/language/did-you-mean.js';

describe('didYouMean', () => {
  it.each([
    ['timout', ['timeout', 'retry'], 'timeout'],
    ['shel', ['shell', 'http'], 'shell'],
    ['cofnig', ['config', 'cache'], 'config'],
    ['HTTP', ['http'], 'http'],
    ['zzzzzz', ['shell', 'http'], undefined],
    ['x', [], undefined],
  ])('%s among %j -> %s', (name, candidates, expected) => {
    expect(didYouMean(name, candidates)).toBe(expected);
  });

  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
