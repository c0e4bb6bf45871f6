// Benchmarks of `flow run`, each against its baseline measured in the same run:
//   1,000 sequential `true` shell steps vs GNU make running 1,000 `true` recipes (target <= 3.0x);
//   10,000 transform steps with state recorded: engine time per step (<= 0.1 ms) and peak RSS (<= 150 MB, flat 1k vs 10k);
//   8 parallel `sleep 0.5` steps vs `make -j8` (target <= 1.25x).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyBuild } from './lib/build-copy.mjs';
import { alternate, median, peakRssMb } from './lib/measure.mjs';

export const name = 'engine';
export const title = 'flow run: the engine';

// A workflow of `count` shell steps running `script`, and the Makefile doing the same, in `dir`.
function shellCase(root, dir, label, count, script, parallel) {
  const ids = Array.from({ length: count }, (_, i) => `s${i}`);
  const steps = ids.map((id) => `  - { id: ${id}, type: shell, config: { run: "${script}" } }`).join('\n');
  const yaml = parallel ? `steps:\n  - id: all\n    parallel:\n      steps:\n${steps.replace(/^/gm, '    ')}\n` : `steps:\n${steps}\n`;
  writeFileSync(join(dir, `${label}.yaml`), yaml);
  writeFileSync(
    join(dir, `${label}.mk`),
    `all: ${ids.join(' ')}\n${ids.map((id) => `${id}:\n\t${script}\n`).join('')}.PHONY: all ${ids.join(' ')}\n`,
  );
  return {
    subject: { cmd: process.execPath, args: [join(root, 'bin', 'flow.js'), 'run', `${label}.yaml`, '--state', 'state.db'], cwd: dir },
    baseline: { cmd: 'make', args: ['-s', '-f', `${label}.mk`, ...(parallel ? ['-j8'] : [])], cwd: dir },
  };
}

// Engine time per step and the peak RSS of a whole process, for an N-step transform run.
function transformCase(root, steps, shape) {
  const args = [fileURLToPath(new URL('./engine-inprocess.mjs', import.meta.url)), root, String(steps), shape];
  const res = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`engine-inprocess ${steps} failed: ${res.stderr}`);
  const result = JSON.parse(res.stdout);
  result.peakRssMb = peakRssMb({ cmd: process.execPath, args, cwd: root });
  return result;
}

export async function run({ root: checkout, quick, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-engine-'));
  try {
    // A copy of the build: a rebuild of dist/ during these minutes would fail a run or mix two builds.
    const root = join(dir, 'build');
    const stamp = copyBuild(checkout, root, log);
    return measure({ root, dir, stamp, quick, log });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure({ root, dir, stamp, quick, log }) {
  const rows = [];

  log('engine: 1,000 sequential `true` shell steps vs make...');
  const seq = shellCase(root, dir, 'sequential', 1000, 'true', false);
  const s = alternate(seq.baseline, seq.subject, { runs: quick ? 2 : 5, warmups: 1, log });
  rows.push(row('1,000 sequential `true`', s, 3.0, peakRssMb(seq.subject)));

  log('engine: 8 parallel `sleep 0.5` steps vs make -j8...');
  const par = shellCase(root, dir, 'parallel', 8, 'sleep 0.5', true);
  const p = alternate(par.baseline, par.subject, { runs: quick ? 3 : 10, warmups: 1, log });
  rows.push(row('8 parallel `sleep 0.5`', p, 1.25, peakRssMb(par.subject)));

  const peaks = [];
  // "steps": N distinct steps in the file (loading a file that size is part of the peak);
  // "items": one for_each over N items, the same engine work from a 3-line file.
  for (const shape of ['steps', 'items']) {
    for (const steps of [1000, 10000]) {
      const label = shape === 'steps' ? `${steps.toLocaleString('en')} transforms` : `for_each over ${steps.toLocaleString('en')} items`;
      log(`engine: ${label} in-process...`);
      const t = transformCase(root, steps, shape);
      peaks.push(
        `${label}: peak RSS ${t.peakAfterLoadMb.toFixed(1)} MB after loading and validating the file, ${t.peakAfterRunMb.toFixed(1)} MB after the run`,
      );
      rows.push({
        benchmark: name,
        case: `${label}, ms per step`,
        subjectMedian: t.perStepMs,
        baselineMedian: undefined,
        ratio: undefined,
        // The target is for 10,000 steps; the 1,000-step rows show whether time and memory stay flat.
        target: steps === 10000 ? `≤ 0.1 ms/step, ≤ 150 MB${shape === 'items' ? ' (info)' : ''}` : '(info)',
        result: t.perStepMs <= 0.1 && t.peakRssMb <= 150 ? 'PASS' : 'FAIL',
        formal: steps === 10000 && shape === 'steps',
        rssMb: t.peakRssMb,
      });
    }
  }
  const notes = [
    "Subjects: `node bin/flow.js run FILE --state state.db` (validation, the run, and the SQLite record: a shell step's attempt is",
    'committed before it starts and its result before the next step starts). Baselines: `make -s -f FILE` (1,000 recipes of `true`, one at a time) and `make -j8`',
    '(8 recipes of `sleep 0.5`), alternating with the subject. Transform rows: `bench/engine-inprocess.mjs` loads the workflow, then',
    'times `runWorkflow` with the SQLite store in-process (engine time per step, validation excluded); peak RSS is that whole',
    'process under /usr/bin/time. Ratios are median(subject) / median(baseline).',
    `Build measured: a copy (bench/lib/build-copy.mjs) of dist/ whose cli.cjs is of ${stamp}.`,
    '',
    'Where the peak memory comes from (process.resourceUsage().maxRSS in the same child):',
    '',
    ...peaks.map((p) => `- ${p}`),
  ].join('\n');
  return { rows, notes };
}

function row(label, samples, target, rssMb) {
  const ratio = median(samples.subject) / median(samples.baseline);
  return {
    benchmark: name,
    case: label,
    subjectMedian: median(samples.subject),
    baselineMedian: median(samples.baseline),
    ratio,
    target: `≤ ${target.toFixed(2)}`,
    result: ratio <= target ? 'PASS' : 'FAIL',
    formal: true,
    rssMb,
  };
}
