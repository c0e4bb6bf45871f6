// Makes docs/run-page.png, the README's picture of the run page: workflows/checks.yaml run once (it fails on
// purpose: a tolerated test failure, a retried fetch, a failed item), then its page opened in Debian's Chromium.
// Run after `node scripts/build.mjs`: node scripts/readme-screenshot.mjs
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from './chromium.mjs';

const root = join(import.meta.dirname, '..');
const flow = join(root, 'bin', 'flow.js');
const dir = mkdtempSync(join(tmpdir(), 'flow-screenshot-'));
copyFileSync(join(root, 'workflows', 'checks.yaml'), join(dir, 'checks.yaml'));
const run = spawnSync(process.execPath, [flow, 'run', 'checks.yaml', '--json'], { cwd: dir, encoding: 'utf8' });
const id = JSON.parse(run.stdout.trim().split('\n')[0]).run.id;

const server = spawn(process.execPath, [flow, 'ui', '--no-open', '--port', '0'], { cwd: dir });
const url = await new Promise((resolve) =>
  server.stderr.on('data', (d) => {
    const m = /serving (\S+)/.exec(String(d));
    if (m) resolve(m[1]);
  }),
);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(url);
  await page.goto(url.replace(/\/\?token=.*/, `/ui/runs/${id}?step=fetch`));
  await page.getByRole('heading', { name: 'Step fetch' }).waitFor();
  await page.getByText('fetched').first().waitFor();
  await page.getByText('shell').first().waitFor();
  await page.screenshot({ path: join(root, 'docs', 'run-page.png'), fullPage: true });
} finally {
  await browser.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
