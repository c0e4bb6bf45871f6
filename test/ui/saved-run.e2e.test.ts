import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { flow } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';

// `flow show RUN --html`: one file, opened from disk with no server, as a CI artefact is.

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
}, 30_000);
afterAll(async () => {
  await browser?.close();
});

describe('flow show --html', () => {
  it('writes a run of 1,000 steps as one page under 1 MB that opens offline, with its steps, timeline and output', async () => {
    const dir = tempDir('flow-html-');
    const steps = Array.from({ length: 998 }, (_, i) => `  - { id: t${i}, type: transform, config: { value: ${i} } }`);
    steps.push('  - { id: noisy, type: shell, config: { run: "seq 1 5000" } }');
    steps.push(`  - { id: last, type: shell, config: { run: "echo 'done </script><!-- ok'" } }`);
    writeFileSync(join(dir, 'w.yaml'), `name: big\nsteps:\n${steps.join('\n')}\n`);
    const run = flow(['run', 'w.yaml'], dir);
    expect(run.code, run.stderr).toBe(0);
    const id = /flow: run (\w+) started/.exec(run.stderr)![1]!;
    const html = flow(['show', id, '--html'], dir);
    expect(html.code, html.stderr).toBe(0);
    const file = join(dir, 'run.html');
    writeFileSync(file, html.stdout);
    expect(Buffer.byteLength(readFileSync(file))).toBeLessThan(1024 * 1024);
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    await expect.poll(() => page.locator('table.steps tbody tr').count(), { timeout: 15_000 }).toBe(1000);
    expect(await page.locator('.graph .node').count()).toBe(1000);
    expect(await page.locator('.timeline .bar').count()).toBe(1000);
    await page.locator('table.steps a', { hasText: 'noisy' }).click();
    const logs = (await page.locator('pre.logs').textContent()) ?? '';
    // The end of the output, where a failure would show; the start is said to be cut.
    expect(logs).toMatch(/^\[… [\d,]+ characters before\]\n/);
    expect(logs.trimEnd().endsWith('4999\n5000')).toBe(true);
    await page.locator('table.steps a', { hasText: 'last' }).click();
    expect(await page.locator('pre.logs').textContent()).toBe('done </script><!-- ok\n');
    await screenshot(page, 'saved-run');
    // Nothing but the file itself: no server, no network.
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    await page.close();
    // 1,000 steps run, then drawn in Chromium: 11-20 s on a 2-core machine, so the default 20 s limit was too tight.
  }, 45_000);

  it('gives a for_each a lane of the timeline spanning its items, with its status', async () => {
    const dir = tempDir('flow-html-');
    writeFileSync(
      join(dir, 'w.yaml'),
      'name: items\nsteps:\n  - { id: first, type: shell, config: { run: "true" } }\n  - id: pages\n    for_each: [a, b, c]\n    type: shell\n    config: { run: "test \\"$P\\" != c", env: { P: "${{ item }}" } }\n',
    );
    const run = flow(['run', 'w.yaml'], dir);
    expect(run.code, run.stderr).toBe(1);
    const id = /flow: run (\w+) started/.exec(run.stderr)![1]!;
    const file = join(dir, 'run.html');
    writeFileSync(file, flow(['show', id, '--html'], dir).stdout);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(file).href);
    const lane = page.locator('.timeline .lane', { hasText: 'pages' });
    await expect.poll(() => lane.locator('.bar').count(), { timeout: 15_000 }).toBe(1);
    expect(await lane.locator('.bar').getAttribute('aria-label')).toMatch(/^items: failed, /);
    await page.close();
  });
});
