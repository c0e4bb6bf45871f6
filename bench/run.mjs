// Runs flow's benchmarks and prints one table: node bench/run.mjs [--quick] [--node PATH]... [FILTER]
//   --quick      fewer runs per case (a smoke test; numbers are noisier)
//   --node PATH  a Node binary to measure under (repeatable); benchmarks that compare Nodes (perf) use these, the
//                others ignore them. Without it perf uses this Node and those .ci/run installed in .ci/.work.
//   FILTER       only benchmarks whose name contains this substring, e.g. `validate`
// Each benchmark rewrites only its own section of bench/RESULTS.md. Exit 1 when a formal target fails, 2 when a benchmark errs.
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, markdownTable, writeSection } from './lib/report.mjs';

// The benchmark modules, in run order; add new ones here (e.g. './engine-sequential.mjs').
// Each exports `name`, `title` (its RESULTS.md heading) and `run({ root, quick, nodes, log })` -> { rows, notes, summary? };
// `summary`, when given, is printed after the table (e.g. perf's figures per Node side by side).
const BENCHMARKS = [
  './validate.mjs',
  './engine.mjs',
  './resume.mjs',
  './startup.mjs',
  './serve.mjs',
  './ui.mjs',
  './postgres.mjs',
  './remote.mjs',
  './perf.mjs',
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(root, 'bench', 'RESULTS.md');

// Formats milliseconds (or MB) for the table; blank when a benchmark has no such number.
const ms = (v) => (v === undefined ? '' : v < 1 ? v.toFixed(3) : v.toFixed(1));
const COLUMNS = [
  { title: 'benchmark', value: (r) => r.benchmark },
  { title: 'case', value: (r) => r.case },
  { title: 'subject median ms', value: (r) => ms(r.subjectMedian), right: true },
  { title: 'baseline median ms', value: (r) => ms(r.baselineMedian), right: true },
  { title: 'ratio', value: (r) => (r.ratio === undefined ? '' : r.ratio.toFixed(2)), right: true },
  { title: 'target', value: (r) => r.target },
  { title: 'result', value: (r) => r.result },
  { title: 'peak RSS MB', value: (r) => ms(r.rssMb), right: true },
];

const USAGE = 'usage: node bench/run.mjs [--quick] [--node PATH]... [FILTER]';

// Parses the supported arguments; anything unknown is a usage error rather than silently ignored.
function parseArgs(argv) {
  const opts = { quick: false, filter: '', nodes: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--node' || arg.startsWith('--node=')) {
      const path = arg === '--node' ? argv[++i] : arg.slice('--node='.length);
      if (!path) throw new Error(`--node needs a path to a node binary; ${USAGE}`);
      opts.nodes.push(nodeBinary(path));
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}; ${USAGE}`);
    else opts.filter = arg;
  }
  return opts;
}

// An absolute path (benchmarks run commands from other directories) to an executable, checked before hours of work.
function nodeBinary(path) {
  const abs = resolve(path);
  try {
    accessSync(abs, constants.X_OK);
  } catch {
    throw new Error(`--node ${path}: not an executable file`);
  }
  return abs;
}

// Imports, filters and runs the benchmarks, then prints the table and records each benchmark's section.
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(root, 'dist', 'cli.cjs'))) throw new Error('dist/cli.cjs is missing; run `node scripts/build.mjs` first');
  const modules = (await Promise.all(BENCHMARKS.map((p) => import(p)))).filter((m) => m.name.includes(opts.filter));
  if (modules.length === 0) throw new Error(`no benchmark matches '${opts.filter}'`);
  const command = ['node', 'bench/run.mjs', ...process.argv.slice(2)].join(' ');
  const info = machineInfo();
  const log = (msg) => process.stderr.write(`${msg}\n`);
  const all = [];
  const failed = [];
  const summaries = [];
  for (const mod of modules) {
    try {
      const { rows, notes, summary } = await mod.run({ root, quick: opts.quick, nodes: opts.nodes, log });
      all.push(...rows);
      if (summary) summaries.push(summary);
      writeSection(RESULTS, mod.name, section(mod, rows, notes, command, info));
    } catch (err) {
      // One broken benchmark must not hide the others' numbers; its RESULTS.md section is left as it was.
      failed.push(mod.name);
      log(`bench: ${mod.name} failed, its section is unchanged: ${err.message}`);
    }
  }
  if (all.length) console.log(markdownTable(COLUMNS, all));
  for (const summary of summaries) console.log(`\n${summary}`);
  console.log(`\n${info.date}  node ${info.node}  nproc ${info.nproc}  ${info.cpu}  (written to bench/RESULTS.md)`);
  if (failed.length) console.log(`failed: ${failed.join(', ')}`);
  if (failed.length) process.exitCode = 2;
  else if (all.some((r) => r.formal && r.result === 'FAIL')) process.exitCode = 1;
}

// One benchmark's RESULTS.md section: heading, how and where it ran, the shared table and the benchmark's notes.
function section(mod, rows, notes, command, info) {
  return [
    `## ${mod.title}`,
    '',
    `- command: \`${command}\``,
    `- date: ${info.date}`,
    `- node: ${info.node}`,
    `- nproc: ${info.nproc}`,
    `- CPU: ${info.cpu}`,
    '',
    markdownTable(COLUMNS, rows),
    '',
    notes ?? '',
  ].join('\n');
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 2;
});
