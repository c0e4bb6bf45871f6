// Benchmark: how much slower `flow validate FILE` starts than a bare `node -e 0`, for 1-, 100- and 1,000-step files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, median, peakRssMb, percentile } from './lib/measure.mjs';
import { p90Table } from './lib/report.mjs';
import { generateWorkflow } from './lib/workflow-gen.mjs';

export const name = 'validate';
export const title = 'flow validate startup';

const SIZES = [1, 100, 1000];
const TARGET = 2.0;
const FORMAL_SIZE = 100; // only this row's target is the formal one; the others are informational
const NOT_BUILT = 70; // bin/flow.js's exit code while dist/ is missing, e.g. during a concurrent `npm run build`

// Identifies the build being measured (dist/cli.cjs's mtime), to detect a rebuild in the middle of a run.
function buildStamp(root) {
  const cli = join(root, 'dist', 'cli.cjs');
  return existsSync(cli) ? statSync(cli).mtime.toISOString() : 'missing';
}

// Writes the generated workflows and proves each validates, so timings never measure an error path.
function prepare(root, dir) {
  return SIZES.map((steps) => {
    const file = join(dir, `bench-${steps}.yaml`);
    writeFileSync(file, generateWorkflow(steps));
    const res = spawnSync(process.execPath, ['bin/flow.js', 'validate', file], { cwd: root, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`generated ${file} does not validate (exit ${res.status}):\n${res.stdout}${res.stderr}`);
    return { steps, file };
  });
}

// Measures each size (alternating with the baseline) and returns the rows for run.mjs's table plus a p90 detail table.
export async function run({ root, quick, log }) {
  const runs = quick ? 8 : 30;
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-validate-'));
  try {
    const stampBefore = buildStamp(root);
    const cases = prepare(root, dir);
    const baseline = { cmd: process.execPath, args: ['-e', '0'], cwd: root };
    const rows = [];
    let retries = 0;
    for (const { steps, file } of cases) {
      const subject = { cmd: process.execPath, args: ['bin/flow.js', 'validate', file], cwd: root };
      log(`validate: ${steps} step(s), ${runs} alternating runs after 3 warm-ups...`);
      const transient = (err) => err.status === NOT_BUILT;
      const s = alternate(baseline, subject, { runs, warmups: 3, transient, log });
      retries += s.retries;
      const ratio = median(s.subject) / median(s.baseline);
      const formal = steps === FORMAL_SIZE;
      rows.push({
        benchmark: name,
        case: `${steps} step${steps === 1 ? '' : 's'}`,
        subjectMedian: median(s.subject),
        subjectP90: percentile(s.subject, 90),
        baselineMedian: median(s.baseline),
        baselineP90: percentile(s.baseline, 90),
        ratio,
        target: formal ? `≤ ${TARGET.toFixed(1)}` : `≤ ${TARGET.toFixed(1)} (info)`,
        result: ratio <= TARGET ? 'PASS' : 'FAIL',
        formal,
        rssMb: peakRssMb(subject),
      });
    }
    const stampAfter = buildStamp(root);
    const rebuilt = stampAfter !== stampBefore || retries > 0;
    if (rebuilt)
      log(
        `validate: WARNING dist/ was rebuilt during the run (${stampBefore} -> ${stampAfter}, ${retries} retried runs); rerun for clean numbers`,
      );
    return {
      rows,
      notes: notes(
        rows,
        runs,
        rebuilt
          ? `**Warning:** dist/ was rebuilt during this run (dist/cli.cjs ${stampBefore} -> ${stampAfter}, ${retries} retried runs); numbers may mix two builds.`
          : `Build measured: dist/cli.cjs of ${stampBefore}.`,
      ),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The extra markdown for RESULTS.md: p90s, method, and what the cases contain.
function notes(rows, runs, buildNote) {
  const detail = p90Table(rows);
  return [
    `Subject: \`node bin/flow.js validate FILE\`; baseline: \`node -e 0\`; ${runs} runs each after 3 warm-ups, alternating baseline/subject,`,
    'wall time per spawnSync (stdio ignored). Files are generated into os.tmpdir() by `bench/lib/workflow-gen.mjs`: shell steps',
    "reading `${{ inputs.x }}` and the previous shell step's stdout, a transform every 4th step, a 3-step parallel group every 25th.",
    `The formal target is the 100-step ratio ≤ ${TARGET.toFixed(1)}; the other rows are informational. Peak RSS is one subject run under /usr/bin/time -f %M.`,
    buildNote,
    '',
    detail,
  ].join('\n');
}
