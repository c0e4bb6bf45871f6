import { describe, expect, it } from 'vitest';
import { validateText } from '../../helpers/validate.js';

const step = (body: string) => `steps:\n  - id: a\n${body}`;

// One message per problem, however many schema branches failed underneath it.
describe('schema diagnostics', () => {
  it.each([
    [
      'an integer field given a word',
      step('    type: ai\n    config: { max_tokens: lots }\n'),
      'wrong-type',
      "step 'a' config.max_tokens must be an integer or a ${{ }} expression, not the string 'lots'",
    ],
    [
      'nested anyOf',
      step('    type: http\n    config: { url: u, expect_status: abc }\n'),
      'wrong-type',
      "step 'a' config.expect_status must be an integer, a list or a ${{ }} expression, not the string 'abc'",
    ],
    [
      // A string's length is counted by ajv's runtime helper, which the compiled validator imports.
      'an empty string where one character is the least',
      step('    type: shell\n    concurrency: { key: "", limit: 1 }\n    config: { run: x }\n'),
      'invalid-value',
      "step 'a' concurrency.key must NOT have fewer than 1 characters",
    ],
    [
      'a branch that fits is the one reported',
      step('    type: http\n    config: { url: u, expect_status: [99] }\n'),
      'invalid-value',
      "step 'a' config.expect_status.0 must be >= 100",
    ],
    [
      'enum inside anyOf',
      step('    type: shell\n    on_error: retry\n    config: { run: x }\n'),
      'invalid-value',
      "step 'a' on_error is 'retry'; it must be one of: fail, continue",
    ],
    [
      'one of two keys required',
      step('    type: shell\n    config: { cwd: /tmp }\n'),
      'missing-key',
      "step 'a' config needs 'run' or 'command'",
    ],
    [
      'two exclusive keys',
      step('    type: shell\n    config: { run: x, command: [x] }\n'),
      'invalid-value',
      "step 'a' config may set only one of 'run', 'command'",
    ],
    [
      'not both',
      step('    type: http\n    config: { url: u, json: {}, body: x }\n'),
      'invalid-value',
      "step 'a' config cannot set both 'json' and 'body'",
    ],
    [
      'conditional required',
      step('    type: storage\n    config: { storage_type: s3 }\n'),
      'missing-key',
      "step 'a' config is missing required key 'bucket'",
    ],
    [
      'a duration',
      step('    type: shell\n    timeout: 5 minutes\n    config: { run: x }\n'),
      'invalid-duration',
      "step 'a' timeout: '5 minutes' is not a duration",
    ],
    ['a step id', 'steps:\n  - id: Build-It\n    type: shell\n    config: { run: x }\n', 'invalid-id', "step id 'Build-It' is not valid"],
    [
      'a version written as a number',
      'version: 1.0\nsteps:\n  - id: a\n    type: shell\n    config: { run: x }\n',
      'wrong-type',
      'version must be a string, not a number',
    ],
    ['a missing type', 'steps:\n  - id: a\n    config: { run: x }\n', 'missing-key', "step 'a' is missing required key 'type'"],
    ['an empty file', '', 'wrong-type', 'the workflow must be a mapping, not null'],
  ])('%s', async (_name, text, code, message) => {
    const diagnostics = await validateText(text);
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([[code, message]]);
  });

  it('hints the quoted form of a number where a string is needed', async () => {
    const [d] = await validateText('version: 1.0\nsteps:\n  - id: a\n    type: shell\n    config: { run: x }\n');
    expect(d!.hint).toBe('quote the value: "1.0"');
  });

  it('suggests the key meant, and where a config key belongs', async () => {
    const diagnostics = await validateText(step('    type: http\n    timout: 5m\n    url: http://x\n    config: { url: u }\n'));
    expect(diagnostics.map((d) => [d.code, d.line, d.column, d.hint])).toEqual([
      ['unknown-key', 4, 5, "did you mean 'timeout'?"],
      ['unknown-key', 5, 5, "'url' belongs under 'config:'"],
    ]);
  });

  it('reports a group with action fields as unknown keys of the group', async () => {
    const diagnostics = await validateText(
      'steps:\n  - id: g\n    type: shell\n    parallel:\n      steps:\n        - { id: a, type: shell, config: { run: x } }\n',
    );
    expect(diagnostics.map((d) => `${d.code}@${d.line}:${d.message}`)).toEqual(["unknown-key@3:unknown key 'type' in step 'g'"]);
  });

  it('reports every problem of a broken file in one pass, sorted by position', async () => {
    const text = [
      'name: broken', // 1
      'inputs:', // 2
      '  n: { type: strin }', // 3
      'steps:', // 4
      '  - id: a', // 5
      '    type: shel', // 6
      '    config: { run: x }', // 7
      '  - id: a', // 8
      '    type: shell', // 9
      '    retry: { max_attempts: 0 }', // 10
      '    config: { run: "${{ inputs.m }}" }', // 11
    ].join('\n');
    const diagnostics = await validateText(text);
    expect(diagnostics.map((d) => `${d.code}@${d.line}`)).toEqual([
      'unused-input@3',
      'invalid-value@3',
      'unknown-step-type@6',
      'duplicate-id@8',
      'invalid-value@10',
      'unknown-input@11',
    ]);
  });
});
