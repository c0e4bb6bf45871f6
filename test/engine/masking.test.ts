import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../src/engine/masking.js';

const secret = 'p@ss "word"\nsecond-line';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('SecretMasker', () => {
  it.each([
    ['as is', secret],
    ['each line of a multi-line secret', 'second-line'],
    ['URL-encoded', encodeURIComponent(secret)],
    ['escaped in a JSON string', JSON.stringify(secret).slice(1, -1)],
    ['base64', b64(secret)],
    ['base64 with the newline echo adds', b64(`${secret}\n`)],
  ])('masks the secret %s', (_form, text) => {
    const masker = new SecretMasker([secret]);
    expect(masker.text(`before ${text} after`)).toBe('before *** after');
  });

  it('settles a growing text up to an ending that could start a secret', () => {
    const masker = new SecretMasker(['open sesame']);
    expect(masker.settled('the door says op')).toBe('the door says '.length);
    expect(masker.settled('the door says open sesame')).toBe('the door says open sesame'.length);
    expect(masker.settled('the door says opera')).toBe('the door says opera'.length);
    expect(new SecretMasker([]).settled('anything o')).toBe('anything o'.length);
  });

  it('leaves short secrets’ encodings alone: they would mask ordinary text', () => {
    const masker = new SecretMasker(['abc']);
    expect(masker.text(`abc ${b64('abc')}`)).toBe(`*** ${b64('abc')}`);
  });
});
