import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/model/diagnostic.js';
import { formatDiagnosticGithub, formatDiagnosticText, plainStyle, summarize } from '../../src/report/diagnostics.js';

const d: Diagnostic = {
  file: 'w.yaml',
  line: 2,
  column: 5,
  length: 6,
  severity: 'error',
  code: 'unknown-key',
  message: "unknown key 'timout' in step 'a'",
  path: '/steps/0/timout',
  hint: "did you mean 'timeout'?",
};
const lines = (_file: string, line: number) => ['steps:', '    timout: 5m'][line - 1];

describe('formatDiagnosticText', () => {
  it('prints location, severity, code and message, then the hint', () => {
    expect(formatDiagnosticText(d, plainStyle, lines)).toBe(
      "w.yaml:2:5: error unknown-key: unknown key 'timout' in step 'a'\n  hint: did you mean 'timeout'?",
    );
  });

  it('shows the source line with a caret under the span when snippets are on', () => {
    const text = formatDiagnosticText(d, { ...plainStyle, snippets: true }, lines);
    expect(text.split('\n')).toEqual([
      "w.yaml:2:5: error unknown-key: unknown key 'timout' in step 'a'",
      ' 2 |     timout: 5m',
      '   |     ^^^^^^',
      "  hint: did you mean 'timeout'?",
    ]);
  });
});

describe('formatDiagnosticGithub', () => {
  it('escapes newlines, and commas and colons in properties', () => {
    const g = formatDiagnosticGithub({ ...d, file: 'a,b:c.yaml', severity: 'warning', hint: 'line1\nline2 100%' });
    expect(g).toBe("::warning file=a%2Cb%3Ac.yaml,line=2,col=5,title=unknown-key::unknown key 'timout' in step 'a'%0Aline1%0Aline2 100%25");
  });
});

describe('summarize', () => {
  it.each([
    [[], 1, '1 file valid'],
    [[d], 2, '1 error, 0 warnings in 2 files'],
    [[d, { ...d, severity: 'warning' as const }], 1, '1 error, 1 warning in 1 file'],
  ])('%#', (diagnostics, files, expected) => {
    expect(summarize(diagnostics, files)).toBe(expected);
  });
});
