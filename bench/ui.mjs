// Benchmark: the dashboard in Debian's Chromium (playwright-core), over a state file of 10,000 recorded runs and a run
// of 1,000 steps. Targets: the runs page usable (its rows shown) within 1 s; the 1,000-step run's graph within 1 s.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBuild } from './lib/build-copy.mjs';
import { startFlowServer } from './lib/flow-server.mjs';
import { buildHistory } from './lib/history-gen.mjs';
import { percentile } from './lib/measure.mjs';
import { p90Table } from './lib/report.mjs';

export const name = 'ui';
export const title = 'flow ui in a browser';

const RUNS = 10_000;
const STEPS = 1_000;
const TARGET_MS = 1000;
const TOKEN = 'bench-token-0123456789';

export async function run({ root: checkout, quick, log }) {
  const samples = quick ? 3 : 10;
  const dir = mkdtempSync(join(tmpdir(), 'flow-bench-ui-'));
  const { chromium } = await import('playwright-core');
  try {
    const root = join(dir, 'build');
    const stamp = copyBuild(checkout, root, log);
    const state = join(dir, 'history.db');
    log(`ui: a state file of ${RUNS.toLocaleString('en')} recorded runs and a run of ${STEPS.toLocaleString('en')} steps...`);
    await buildHistory(root, state, { count: RUNS });
    const steps = Array.from({ length: STEPS }, (_, i) => `  - { id: s${i}, type: transform, config: { value: ${i} } }`);
    writeFileSync(join(dir, 'big.yaml'), `name: big\nsteps:\n${steps.join('\n')}\n`);
    const big = spawnSync(process.execPath, [join(root, 'bin', 'flow.js'), 'run', 'big.yaml', '--state', state], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
    const bigId = /flow: run (\w+) started/.exec(big.stderr)?.[1];
    if (big.status !== 0 || !bigId) throw new Error(`the ${STEPS}-step run failed: ${big.stderr.slice(-1000)}`);
    const server = await startFlowServer(root, { command: 'ui', args: ['--no-open', '--state', state], token: TOKEN, cwd: dir });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${server.url}/?token=${TOKEN}`);
      await page.waitForSelector('table.runs tbody tr');
      const time = async (path, ready) => {
        const times = [];
        for (let i = 0; i < samples + 1; i++) {
          const start = Date.now();
          await page.goto(`${server.url}${path}`);
          await page.waitForFunction(ready, undefined, { timeout: 30_000 });
          if (i > 0) times.push(Date.now() - start);
        }
        return times;
      };
      log('ui: the runs page...');
      const runsPage = await time('/ui/runs', () => document.querySelectorAll('table.runs tbody tr').length > 0);
      log(`ui: the ${STEPS}-step run's page...`);
      const runPage = await time(`/ui/runs/${bigId}`, () => document.querySelectorAll('.graph .node').length === 1000);
      const rows = [
        row(`runs page over ${RUNS.toLocaleString('en')} runs: rows shown`, runsPage),
        row(`a run of ${STEPS.toLocaleString('en')} steps: its graph drawn`, runPage),
      ];
      return { rows, notes: notes(rows, samples, stamp) };
    } finally {
      await browser.close();
      server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function row(label, times) {
  const p90 = percentile(times, 90);
  return {
    benchmark: name,
    case: label,
    subjectMedian: percentile(times, 50),
    subjectP90: p90,
    target: `≤ ${TARGET_MS} ms`,
    result: p90 <= TARGET_MS ? 'PASS' : 'FAIL',
    formal: true,
  };
}

function notes(rows, samples, stamp) {
  return [
    `A copy of dist/ (cli.cjs of ${stamp}) runs \`flow ui --no-open\` over a state file of ${RUNS.toLocaleString('en')} runs`,
    `(bench/lib/history-gen.mjs) and one real run of ${STEPS.toLocaleString('en')} transform steps. Debian's Chromium (headless, through`,
    `playwright-core) loads each page ${samples} times after one warm-up; the time is from the navigation to the page`,
    'showing its rows (the runs page asks for 200) or all 1,000 graph nodes. Judged on the p90.',
    '',
    p90Table(rows),
  ].join('\n');
}
