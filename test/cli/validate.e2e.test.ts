import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { FLOW_BIN, flow } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
const write = (name: string, text: string) => {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
};

const GOOD = 'steps:\n  - id: a\n    type: shell\n    config: { run: "echo hi" }\n';
const BAD = 'steps:\n  - id: a\n    type: shel\n    timout: 5m\n    config: { run: "echo ${{ inputs.nope }}" }\n';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flow-e2e-'));
});

describe('flow validate', () => {
  it('exits 0 and says so for valid files', () => {
    write('a.yaml', GOOD);
    write('b.yaml', GOOD);
    const r = flow(['validate', 'a.yaml', 'b.yaml'], dir);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr.trim()).toBe('2 files valid');
  });

  it('exits 2 and prints every problem as file:line:col with code and hint', () => {
    write('bad.yaml', BAD);
    const r = flow(['validate', 'bad.yaml'], dir);
    expect(r.code).toBe(2);
    const firstLines = r.stdout.split('\n').filter((l) => l.startsWith('bad.yaml:'));
    expect(firstLines).toEqual([
      "bad.yaml:3:11: error unknown-step-type: unknown step type 'shel'",
      "bad.yaml:4:5: error unknown-key: unknown key 'timout' in step 'a'",
      "bad.yaml:5:30: error unknown-input: input 'nope' is not declared",
    ]);
    expect(r.stdout).toContain("  hint: did you mean 'shell'?");
    expect(r.stderr.trim()).toBe('3 errors, 0 warnings in 1 file');
  });

  it('refuses several documents nested 100,000 deep, one error each, without ending the process', () => {
    // Composed, each overflowed the stack; on Node 20 the second then ended node in V8's regular expression compiler.
    const deep = `${'- '.repeat(100_000)}x\n`;
    for (const name of ['d1.yaml', 'd2.yaml', 'd3.yaml']) write(name, deep);
    const r = flow(['validate', 'd1.yaml', 'd2.yaml', 'd3.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n').filter((l) => / error /.test(l))).toEqual(
      ['d1', 'd2', 'd3'].map((n) => `${n}.yaml:1:129: error too-deep: document nests deeper than 64 levels`),
    );
    expect(r.stderr).not.toMatch(/FATAL|stack/i);
  });

  it('prints JSON records with --format json', () => {
    write('bad.yaml', BAD);
    const r = flow(['validate', '--format', 'json', 'bad.yaml'], dir);
    expect(r.code).toBe(2);
    const rows = JSON.parse(r.stdout);
    expect(rows[0]).toEqual({
      file: 'bad.yaml',
      line: 3,
      column: 11,
      severity: 'error',
      code: 'unknown-step-type',
      message: "unknown step type 'shel'",
      path: '/steps/0/type',
      hint: "did you mean 'shell'?",
    });
    expect(rows.map((x: { code: string }) => x.code)).toEqual(['unknown-step-type', 'unknown-key', 'unknown-input']);
  });

  it('prints GitHub Actions annotations with --format github', () => {
    write('bad.yaml', BAD);
    const r = flow(['validate', '--format', 'github', 'bad.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toBe(
      "::error file=bad.yaml,line=3,col=11,title=unknown-step-type::unknown step type 'shel'%0Adid you mean 'shell'?",
    );
  });

  it('expands globs itself when the shell did not', () => {
    write('wf/one.yaml', GOOD);
    write('wf/two.yaml', GOOD);
    write('wf/nested/three.yaml', BAD);
    expect(flow(['validate', 'wf/*.yaml'], dir)).toMatchObject({ code: 0 });
    const r = flow(['validate', '--format', 'json', 'wf/**/*.yaml'], dir);
    expect(r.code).toBe(2);
    expect(new Set(JSON.parse(r.stdout).map((x: { file: string }) => x.file))).toEqual(new Set(['wf/nested/three.yaml']));
  });

  it('fails warnings only with --strict', () => {
    write('warn.yaml', `inputs:\n  unused: { type: string }\n${GOOD}`);
    const relaxed = flow(['validate', 'warn.yaml'], dir);
    expect(relaxed.code).toBe(0);
    expect(relaxed.stdout).toContain('warning unused-input');
    expect(flow(['validate', '--strict', 'warn.yaml'], dir).code).toBe(2);
  });

  it.each([
    [['validate', 'missing.yaml'], "flow: cannot read 'missing.yaml': no such file"],
    [['validate', 'nothing/*.yaml'], "flow: cannot read 'nothing/*.yaml': no file matches this pattern"],
    [
      ['validate', '--format', 'xml', 'a.yaml'],
      "error: option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json, github.",
    ],
    [['validate'], "error: missing required argument 'files'"],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
  ])('bad usage %j: one clear line on stderr, exit 2, no stack', (args, message) => {
    write('a.yaml', GOOD);
    const r = flow(args, dir);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('checks a custom executor config against the module schema (ajv loaded lazily in the bundle)', () => {
    write(
      'steps/greet.js',
      "export const configSchema = { type: 'object', properties: { who: { type: 'string' } }, additionalProperties: false };\nexport async function execute() {}\n",
    );
    write('custom.yaml', 'executors: { greet: ./steps/greet.js }\nsteps:\n  - id: a\n    type: greet\n    config: { whom: x }\n');
    const r = flow(['validate', 'custom.yaml'], dir);
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toBe("custom.yaml:5:15: error unknown-key: unknown key 'whom' in step 'a' config");
  });

  it('validates every example in workflows/ from the repository root', () => {
    const r = flow(['validate', 'workflows/*.yaml'], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\d+ files valid/);
  });
});

describe('flow schema', () => {
  it('prints the committed JSON Schema', () => {
    const r = flow(['schema'], dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(root, 'schema', 'workflow.schema.json'), 'utf8')));
  });
});

describe('flow --help and --version', () => {
  it('help lists the commands and exits 0', () => {
    const r = flow(['--help'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/validate \[options\] <files\.\.\.>/);
  });

  it('version is the package version', () => {
    const r = flow(['--version'], dir);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });
});

describe('flow validate in a terminal', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('shows the source line with a caret under the problem, in colour', () => {
    write('bad.yaml', BAD);
    const r = spawnSync('script', ['-qec', `${process.execPath} ${FLOW_BIN} validate bad.yaml`, '/dev/null'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '1' },
    });
    const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
    expect(plain).toContain(' 4 |     timout: 5m\n   |     ^^^^^^\n');
    expect(r.stdout).toMatch(/\x1b\[/);
  });
});
