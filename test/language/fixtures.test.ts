// One table test over the invalid workflow fixtures: each file names, in `# expect: <code> <line>`
// header lines, exactly the diagnostics `flow validate` must report for it (warnings included).
// Two rows are built in code rather than committed: a file over 5 MB and a file with NUL bytes.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/language/node-host.js';
import { validateFile } from '../../src/language/validate.js';
import { DIAGNOSTIC_CODES, type Diagnostic } from '../../src/model/diagnostic.js';

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'invalid');
const HEADER = /^# expect: ([a-z-]+) ([1-9][0-9]*)$/;

interface Expected {
  code: string;
  line: number;
}

interface Row {
  name: string;
  expected: Expected[];
  /** The absolute path of the file to validate (code-built rows write it on demand). */
  file: () => string;
}

/** The `# expect:` lines at the top of a fixture; any other `# expect` line is a typo in the fixture. */
function parseHeaders(name: string, text: string): Expected[] {
  const lines = text.split(/\r?\n/);
  const expected: Expected[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const m = HEADER.exec(lines[i] ?? '');
    if (!m) break;
    expected.push({ code: m[1] ?? '', line: Number(m[2]) });
  }
  const stray = lines.slice(i).findIndex((l) => l.startsWith('# expect'));
  if (stray >= 0) throw new Error(`${name}: malformed or misplaced '# expect' header on line ${i + stray + 1}`);
  if (expected.length === 0) throw new Error(`${name}: no '# expect: <code> <line>' header`);
  return expected;
}

const fixtureRows: Row[] = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.yaml') && statSync(join(FIXTURE_DIR, f)).isFile())
  .sort()
  .map((f) => {
    const path = join(FIXTURE_DIR, f);
    return { name: f, expected: parseHeaders(f, readFileSync(path, 'utf8')), file: () => path };
  });

let tempDir: string | undefined;
function tempFile(name: string, content: Uint8Array | string): string {
  tempDir ??= mkdtempSync(join(tmpdir(), 'flow-fixtures-'));
  const path = join(tempDir, name);
  writeFileSync(path, content);
  return path;
}
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

/** The codes that are warnings: a file with only these still validates. */
const WARNINGS = new Set(['unused-input', 'unused-output', 'schema-not-strict']);

const SMALL_WORKFLOW = 'name: big\nsteps:\n  - id: hello\n    type: shell\n    config: { run: echo hello }\n';

const codeBuiltRows: Row[] = [
  {
    // Valid YAML padded with comment lines past the 5 MB limit: refused before parsing, at 1:1.
    name: '(built) file-too-large.yaml',
    expected: [{ code: 'file-too-large', line: 1 }],
    file: () => {
      const padding = `# ${'x'.repeat(78)}\n`.repeat(Math.ceil((5 * 1024 * 1024) / 81) + 10);
      return tempFile('file-too-large.yaml', SMALL_WORKFLOW + padding);
    },
  },
  {
    // A workflow whose text holds NUL bytes, as a binary file picked up by mistake would.
    name: '(built) not-text.yaml',
    expected: [{ code: 'not-text', line: 1 }],
    file: () => tempFile('not-text.yaml', Buffer.concat([Buffer.from(SMALL_WORKFLOW), Buffer.from([0, 0, 0, 1, 2, 0xff, 0])])),
  },
];

const rows = [...fixtureRows, ...codeBuiltRows];

const key = (e: Expected): string => `${e.code} @ line ${e.line}`;
const show = (d: Diagnostic): string => `${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message}${d.hint ? ` (hint: ${d.hint})` : ''}`;

describe('invalid workflow fixtures', () => {
  it.each(rows)('$name', async (row) => {
    const result = await validateFile(row.file(), nodeHost);
    const actual = result.diagnostics.map((d) => key(d)).sort();
    const expected = row.expected.map(key).sort();
    expect(actual, `diagnostics of ${row.name}:\n  ${result.diagnostics.map(show).join('\n  ')}`).toEqual(expected);
    for (const d of result.diagnostics) {
      expect(d.message.trim(), `${row.name}: ${show(d)}`).not.toBe('');
      expect(d.column, `${row.name}: ${show(d)}`).toBeGreaterThanOrEqual(1);
    }
    if (row.expected.some((e) => !WARNINGS.has(e.code))) expect(result.valid).toBe(false);
    else expect(result.valid).toBe(true);
  });

  it('has at least 40 fixture files', () => {
    expect(fixtureRows.length).toBeGreaterThanOrEqual(40);
  });

  it('expects every diagnostic code at least once', () => {
    const covered = new Set(rows.flatMap((r) => r.expected.map((e) => e.code)));
    const missing = Object.keys(DIAGNOSTIC_CODES).filter((code) => !covered.has(code));
    expect(missing).toEqual([]);
    const unknown = [...covered].filter((code) => !(code in DIAGNOSTIC_CODES));
    expect(unknown).toEqual([]);
  });
});
