// Benchmark: the wall time of `flow run` on a two-step workflow, before the reporting work (commit 046a09f) and after it,
// per output mode: plain lines (CI), --json, and the live view inside a pseudo-terminal. Informational: no formal target.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBuild } from './lib/build-copy.mjs';
import { startChatServer } from './lib/chat-server.mjs';
import { alternate, median, peakRssMb, percentile, timeOnce } from './lib/measure.mjs';
import { p90Table } from './lib/report.mjs';

export const name = 'startup';
export const title = 'flow run startup, before and after the reporting work, and with an AI step';

const BEFORE_COMMIT = '046a09f'; // the last commit before the reporters (a859c09)

// One transform and one `true` shell step: the least a run does, so start-up and reporting dominate.
const WORKFLOW = `name: startup
version: "1.0"
steps:
  - id: shape
    type: transform
    config:
      value: { greeting: hello }
  - id: done
    type: shell
    config:
      run: "true"
`;

// The same with an AI step in place of the transform, asking a Chat Completions server on 127.0.0.1 (OPENAI_BASE_URL).
const AI_WORKFLOW = WORKFLOW.replace(
  '    type: transform\n    config:\n      value: { greeting: hello }\n',
  '    type: ai\n    config: { model: gpt-4o-mini, prompt: "Is this spam?" }\n',
);

// measure.mjs's helpers spawn with this process's environment, so each case sets its variables here for its duration.
// Output goes to /dev/null (spawnSync's stdio 'ignore'): not a terminal, which is all flow asks of a pipe. No
// NODE_EXTRA_CA_CERTS, as in perf.mjs: Node 20 reads and parses that bundle at every start, before any of flow's code.
const PIPED_ENV = { CI: 'true', GITHUB_ACTIONS: undefined, FORCE_COLOR: undefined, FLOW_STATE: undefined, NODE_EXTRA_CA_CERTS: undefined };
const PTY_ENV = {
  NODE_EXTRA_CA_CERTS: undefined,
  CI: undefined,
  GITHUB_ACTIONS: undefined,
  NO_COLOR: undefined,
  FORCE_COLOR: undefined,
  FLOW_STATE: undefined,
  TERM: 'xterm-256color',
};

// Each case: what the subject (the after build) and its baseline run, and a check of the output that proves each ran in
// the mode the row is named for. The before build has no --json, --reporter or live view: those rows compare to its plain run.
const CASES = [
  {
    key: 'plain',
    label: 'plain (CI=true)',
    env: PIPED_ENV,
    subject: { build: 'after', args: [], expect: /\] started/ },
    baseline: { build: 'before', args: [], expect: /\] started/ },
  },
  {
    key: 'json',
    label: '--json vs before plain',
    env: PIPED_ENV,
    subject: { build: 'after', args: ['--json'], expect: /"type":"run-started"/ },
    baseline: { build: 'before', args: [], expect: /\] started/ },
  },
  {
    key: 'live',
    label: 'live (pty) vs before plain (pty)',
    env: PTY_ENV,
    pty: true,
    subject: { build: 'after', args: [], expect: /\x1b\[\?25h/ },
    baseline: { build: 'before', args: [], expect: /\] started/ },
  },
  {
    key: 'live-vs-plain',
    label: 'live vs --reporter plain, both after (pty)',
    env: PTY_ENV,
    pty: true,
    subject: { build: 'after', args: [], expect: /\x1b\[\?25h/ },
    baseline: { build: 'after', args: ['--reporter', 'plain'], expect: /\] started/ },
  },
  {
    key: 'ai',
    label: 'an AI step in place of the transform (plain, both after)',
    env: PIPED_ENV,
    ai: true,
    subject: { build: 'after', args: [], workflow: AI_WORKFLOW, expect: /ai: 1 call, 13 tokens/ },
    baseline: { build: 'after', args: [], expect: /\] started/ },
  },
];

// Runs fn with `vars` set in this process's environment (undefined removes one), restoring the old values after.
function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return fn();
  } finally {
    apply(saved);
  }
}

const shellQuote = (s) => `'${s.replaceAll("'", "'\\''")}'`;

// `flow run w.yaml` of one build in its own directory. Each command keeps one directory, and so one .flow/state.db, for all
// its runs: a fresh directory per run cannot be had through alternate(), and ~33 runs of two steps grow the file by a few
// KB. Separate directories keep the two builds off each other's state file (a newer schema would stop the older build).
function command(builds, dir, caseKey, side, pty) {
  const cwd = join(dir, `${caseKey}-${side.build}${side.args.length ? '-args' : ''}${side.workflow ? '-own' : ''}`);
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, 'w.yaml'), side.workflow ?? WORKFLOW);
  const argv = [process.execPath, join(builds[side.build], 'bin', 'flow.js'), 'run', 'w.yaml', ...side.args];
  // The pty case runs both sides under the same `script` wrapper, so the pty's own cost is in both and cancels out.
  if (pty) return { cmd: 'script', args: ['-qefc', `stty rows 30 cols 100; exec ${argv.map(shellQuote).join(' ')}`, '/dev/null'], cwd };
  return { cmd: argv[0], args: argv.slice(1), cwd };
}

// One run with its output captured, so a row never times a different mode than it is named for (e.g. plain inside the pty).
function assertMode(cmd, expect, what) {
  const res = spawnSync(cmd.cmd, cmd.args, { cwd: cmd.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const out = `${res.stdout}${res.stderr}`;
  if (res.status !== 0 || !expect.test(out))
    throw new Error(`${what}: exit ${res.status ?? res.signal}, output does not match ${expect}:\n${out.slice(0, 2000)}`);
}

// Checks out and builds the before commit in a worktree; undefined (with the reason in `problems`) when that fails.
function buildBefore(checkout, into, problems) {
  const git = spawnSync('git', ['-C', checkout, 'worktree', 'add', '--detach', into, BEFORE_COMMIT], { encoding: 'utf8' });
  if (git.status !== 0) {
    problems.push(`\`git worktree add ${BEFORE_COMMIT}\` failed: ${git.stderr.trim()}`);
    return undefined;
  }
  execOk('ln', ['-s', join(checkout, 'node_modules'), join(into, 'node_modules')]);
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: into, encoding: 'utf8' });
  if (build.status !== 0) {
    problems.push(`the build of ${BEFORE_COMMIT} failed (exit ${build.status}): ${`${build.stdout}${build.stderr}`.trim().slice(-1000)}`);
    return undefined;
  }
  return into;
}

function execOk(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
}

export async function run({ root: checkout, quick, log }) {
  const runs = quick ? 8 : 30;
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-startup-'));
  const worktree = join(dir, 'before');
  const problems = [];
  const chat = await startChatServer();
  try {
    // A copy of the current build: a rebuild of dist/ by concurrent work would otherwise fail a run or mix two builds.
    const after = join(dir, 'after');
    const stamp = copyBuild(checkout, after, log);
    log(`startup: building ${BEFORE_COMMIT} in a temporary worktree...`);
    const before = buildBefore(checkout, worktree, problems);
    const builds = { before, after };
    const rows = [];
    for (const c of CASES) {
      // Without the before build only the rows that compare two after runs keep a baseline.
      const baselineSide = builds[c.baseline.build] ? c.baseline : undefined;
      const subject = command(builds, dir, c.key, c.subject, c.pty);
      const baseline = baselineSide && command(builds, dir, c.key, baselineSide, c.pty);
      log(`startup: ${c.label}, ${runs} ${baseline ? 'alternating ' : ''}runs after 3 warm-ups...`);
      rows.push(
        withEnv({ ...c.env, ...(c.ai ? { OPENAI_BASE_URL: chat.url, OPENAI_API_KEY: 'sk-bench' } : {}) }, () => {
          assertMode(subject, c.subject.expect, `${c.label}: subject`);
          if (baseline) assertMode(baseline, c.baseline.expect, `${c.label}: baseline`);
          const s = baseline ? alternate(baseline, subject, { runs, warmups: 3, log }) : alone(subject, runs);
          return row(c.label, s, peakRssMb(subject));
        }),
      );
    }
    const head = spawnSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    return { rows, notes: notes(rows, runs, { head, stamp, problems }) };
  } finally {
    chat.stop();
    spawnSync('git', ['-C', checkout, 'worktree', 'remove', '--force', worktree], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

// The subject's samples when there is no baseline to alternate with (the before build failed).
function alone(subject, runs) {
  for (let i = 0; i < 3; i++) timeOnce(subject);
  return { subject: Array.from({ length: runs }, () => timeOnce(subject)), baseline: [] };
}

function row(label, s, rssMb) {
  const has = s.baseline.length > 0;
  return {
    benchmark: name,
    case: label,
    subjectMedian: median(s.subject),
    subjectP90: percentile(s.subject, 90),
    baselineMedian: has ? median(s.baseline) : undefined,
    baselineP90: has ? percentile(s.baseline, 90) : undefined,
    ratio: has ? median(s.subject) / median(s.baseline) : undefined,
    target: 'info',
    result: 'info',
    formal: false,
    rssMb,
  };
}

// The extra markdown for RESULTS.md: what each case runs, which builds, and the p90s.
function notes(rows, runs, { head, stamp, problems }) {
  const detail = p90Table(rows, [
    { title: 'median diff ms', value: (r) => (r.baselineMedian === undefined ? undefined : r.subjectMedian - r.baselineMedian) },
  ]);
  return [
    `Subject ("after"): a copy (bench/lib/build-copy.mjs) of the checkout's dist/ (HEAD ${head} and the working tree; dist/cli.cjs of ${stamp}).`,
    `Baseline ("before"): commit ${BEFORE_COMMIT}, the last before the reporting work,`,
    'built with `node scripts/build.mjs` in a temporary git worktree. Each timed run is `node bin/flow.js run w.yaml` of a',
    'workflow with one transform and one `true` shell step; each command keeps its own directory and .flow/state.db across its runs.',
    `${runs} runs each after 3 warm-ups, alternating baseline/subject; wall time per spawnSync, output to /dev/null.`,
    '',
    '- plain: `CI=true`, stderr not a terminal, on both builds: the mode that must not load ora or log-update.',
    "- --json vs before plain: the after build with `--json` (NDJSON on stdout, plain lines on stderr) against the before build's plain run (it had no --json).",
    '- live (pty): `script -qefc "stty rows 30 cols 100; exec node bin/flow.js run w.yaml" /dev/null` with CI, GITHUB_ACTIONS and',
    '  NO_COLOR unset and TERM=xterm-256color. The before build had no live view, so its row runs the same wrapper and prints plain lines.',
    "- live vs --reporter plain: both sides the after build under the same `script` wrapper, so the pty cancels out: the live view's own cost.",
    '- an AI step: the after build, plain, with an `ai` step (gpt-4o-mini, one prompt) in place of the transform, against a Chat',
    '  Completions server on 127.0.0.1 in its own process (bench/lib/chat-server.mjs, which answers at once): the cost of loading',
    '  the openai package and making one call, against the same run without it.',
    '',
    "Each command's output is checked once before timing (plain lines, NDJSON, or the live view's cursor codes). Informational rows: no target.",
    'Peak RSS is one subject run under /usr/bin/time -f %M (under `script` that is the largest process of the tree, node).',
    ...problems.map((p) => `\n**The before build is missing:** ${p}`),
    '',
    detail,
  ].join('\n');
}
