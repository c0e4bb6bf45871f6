// Output helpers shared by the benchmarks: markdown tables, machine facts, and bench/RESULTS.md sections.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

// Renders rows as an aligned markdown table, the one format used both on the console and in RESULTS.md.
export function markdownTable(columns, rows) {
  const cells = [columns.map((c) => c.title), ...rows.map((r) => columns.map((c) => String(c.value(r) ?? '')))];
  const widths = columns.map((_, i) => Math.max(3, ...cells.map((line) => line[i].length)));
  const line = (vals) => `| ${vals.map((v, i) => (columns[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (columns[i].right ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

// Facts about the machine that a reader needs to compare numbers across runs.
export function machineInfo() {
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || 'unknown';
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  return { date: new Date().toISOString(), node: process.version, nproc, cpu };
}

// Replaces the text between <!-- bench:KEY --> and <!-- /bench:KEY --> (appending it if absent), leaving other sections alone.
export function writeSection(file, key, body) {
  const open = `<!-- bench:${key} -->`;
  const close = `<!-- /bench:${key} -->`;
  const block = `${open}\n${body.trim()}\n${close}`;
  const text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nWritten by `node bench/run.mjs`; each section is rewritten only by its own benchmark.\n';
  const start = text.indexOf(open);
  const end = text.indexOf(close, start);
  const next = start >= 0 && end >= 0 ? text.slice(0, start) + block + text.slice(end + close.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}

// The detail table under a benchmark's section: each case's medians and p90s (subject and baseline), plus any
// columns of the benchmark's own. One decimal, as in run.mjs's table.
export function p90Table(rows, extra = []) {
  const ms = (v) => (v === undefined ? '' : v.toFixed(1));
  return markdownTable(
    [
      { title: 'case', value: (r) => r.case },
      { title: 'subject median ms', value: (r) => ms(r.subjectMedian), right: true },
      { title: 'subject p90 ms', value: (r) => ms(r.subjectP90), right: true },
      { title: 'baseline median ms', value: (r) => ms(r.baselineMedian), right: true },
      { title: 'baseline p90 ms', value: (r) => ms(r.baselineP90), right: true },
      ...extra.map((c) => ({ right: true, ...c, value: (r) => ms(c.value(r)) })),
    ],
    rows,
  );
}
