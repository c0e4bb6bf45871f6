import { describe, expect, it } from 'vitest';
import { BoundedCapture, MAX_CAPTURE_BYTES, directArgv, parseJsonOutput, parseOutputFile } from '../../src/executors/shell-output.js';

describe('parseOutputFile ($FLOW_OUTPUT)', () => {
  it.each<[string, string, Record<string, string>]>([
    ['empty file', '', {}],
    ['one value', 'a=1\n', { a: '1' }],
    ['several values, no final newline', 'a=1\nb=two words', { a: '1', b: 'two words' }],
    ['an empty value', 'empty=\n', { empty: '' }],
    ['the first = splits; later ones belong to the value', 'url=https://x.test/?a=b&c=d\n', { url: 'https://x.test/?a=b&c=d' }],
    ['a line without = is ignored', 'just text\na=1\n', { a: '1' }],
    ['a line starting with = has no name and is ignored', '=orphan\n', {}],
    ['a later line wins', 'a=1\na=2\n', { a: '2' }],
    ['CRLF line ends', 'a=1\r\nb=2\r\n', { a: '1', b: '2' }],
    ['a heredoc keeps its lines', 'notes<<EOF\nline 1\nline 2\nEOF\n', { notes: 'line 1\nline 2' }],
    ['a heredoc keeps empty lines and = inside', 'body<<END\n\nk=v\n\nEND\nafter=1\n', { body: '\nk=v\n', after: '1' }],
    ['a heredoc with CRLF line ends', 'n<<EOF\r\nx\r\ny\r\nEOF\r\n', { n: 'x\ny' }],
    ['an empty heredoc', 'n<<EOF\nEOF\n', { n: '' }],
    ['an unterminated heredoc takes the rest of the file', 'n<<EOF\nx\ny\n', { n: 'x\ny\n' }],
    ['the delimiter must match the whole line', 'n<<EOF\nEOF not yet\nEOF\n', { n: 'EOF not yet' }],
    ['any delimiter', 'json<<ghadelimiter_123\n{"a": 1}\nghadelimiter_123\n', { json: '{"a": 1}' }],
    ['heredoc and plain values mixed', 'a=1\nm<<X\none\nX\nb=2\n', { a: '1', m: 'one', b: '2' }],
    ['a value containing << is a plain value', 'cmd=cat <<EOF\n', { cmd: 'cat <<EOF' }],
    ['names may contain - and digits', 'my-name_2=v\n', { 'my-name_2': 'v' }],
  ])('%s', (_what, text, expected) => {
    expect(parseOutputFile(text)).toEqual(expected);
  });
});

describe('parseJsonOutput', () => {
  it.each<[string, unknown]>([
    ['{"a":1}', { a: 1 }],
    ['  {"a": [1, 2]}\n\n', { a: [1, 2] }],
    ['[1, "two", null]\n', [1, 'two', null]],
    ['[]', []],
    ['{}', {}],
  ])('%j is JSON', (stdout, expected) => {
    expect(parseJsonOutput(stdout)).toEqual(expected);
  });

  it.each([
    ['', 'nothing'],
    ['42', 'a number'],
    ['"text"', 'a JSON string'],
    ['true', 'a JSON boolean'],
    ['null', 'JSON null'],
    ['{not json', 'only looks like an object'],
    ['{"a":1}\n{"b":2}\n', 'JSON lines'],
    ['result: {"a":1}', 'text before the object'],
    ['[1, 2] trailing', 'text after the list'],
  ])('%j is not (%s)', (stdout) => {
    expect(parseJsonOutput(stdout)).toBeUndefined();
  });
});

describe('BoundedCapture', () => {
  it.each<[string, number, string[], string, number]>([
    ['nothing pushed', 10, [], '', 0],
    ['under the limit', 10, ['abc', 'def'], 'abcdef', 0],
    ['exactly the limit', 5, ['ab', 'cde'], 'abcde', 0],
    ['one chunk across the limit', 5, ['abcdefgh'], 'abcde\n[flow: output truncated; 3 more bytes not kept]', 3],
    ['the chunk that crosses the limit is split', 5, ['abc', 'defgh'], 'abcde\n[flow: output truncated; 3 more bytes not kept]', 3],
    ['chunks after the limit are only counted', 3, ['abc', 'de', 'fgh'], 'abc\n[flow: output truncated; 5 more bytes not kept]', 5],
    ['dropped text is counted in UTF-8 bytes', 2, ['ab', '\u00e9\u20ac'], 'ab\n[flow: output truncated; 5 more bytes not kept]', 5],
    ['empty chunks change nothing', 3, ['', 'abc', ''], 'abc', 0],
  ])('%s', (_what, limit, chunks, text, dropped) => {
    const capture = new BoundedCapture(limit);
    for (const chunk of chunks) capture.push(chunk);
    expect(capture.text()).toBe(text);
    expect(capture.dropped).toBe(dropped);
  });

  it('the default limit is 1 MiB', () => {
    expect(MAX_CAPTURE_BYTES).toBe(1024 * 1024);
    const capture = new BoundedCapture();
    capture.push('x'.repeat(MAX_CAPTURE_BYTES));
    expect(capture.dropped).toBe(0);
    capture.push('yz');
    expect(capture.dropped).toBe(2);
    expect(capture.text()).toBe(`${'x'.repeat(MAX_CAPTURE_BYTES)}\n[flow: output truncated; 2 more bytes not kept]`);
  });
});

describe('BoundedCapture counts bytes', () => {
  it('keeps at most the limit in UTF-8 bytes and never cuts a character in two', () => {
    const capture = new BoundedCapture(5);
    capture.push('ab😀cd');
    expect(capture.text()).toBe('ab\n[flow: output truncated; 6 more bytes not kept]');
  });

  it('keeps multi-byte text that fits whole', () => {
    const capture = new BoundedCapture(6);
    capture.push('ab😀');
    expect(capture.text()).toBe('ab😀');
  });
});

describe('directArgv and shell keywords', () => {
  it('leaves `time` to the shell (it is a keyword there, and /usr/bin/time may not exist)', () => {
    expect(directArgv('time make')).toBeUndefined();
  });
});
