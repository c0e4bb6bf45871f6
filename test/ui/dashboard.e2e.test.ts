import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, launchBrowser, screenshot } from '../helpers/browser.js';
import { FLOW_BIN, flow, flowAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/engine.js';
import { startOpenAIServer } from '../helpers/openai-server.js';

// The dashboard as a person uses it: `flow ui --no-open` started as a user would, Debian's Chromium opening the
// printed URL, and runs started from its pages and from another terminal.

const TYPED = `name: typed
inputs:
  count: { type: number, required: true }
steps:
  - { id: show, type: shell, config: { run: "printf '\\\\033[31m%s\\\\033[0m done\\\\n' \${{ inputs.count + 1 }}" } }
outputs: { next: "\${{ inputs.count + 1 }}" }
`;
const GATED = `name: gated
steps:
  - { id: first, type: shell, config: { run: "echo first" } }
  - { id: wait, type: shell, config: { run: "echo waiting; while [ ! -f go ]; do sleep 0.05; done; echo went" } }
`;
const FLAKY = `name: flaky
steps:
  - { id: check, type: shell, config: { run: "test -f fixed && echo fixed || { echo 'not yet' >&2; exit 1; }" } }
`;

let dir: string;
let ui: ChildProcess;
let url: string;
let browser: Browser;
let page: Page;
const runIdOf = (stderr: string) => /flow: run (\w+) started/.exec(stderr)?.[1] ?? '';

beforeAll(async () => {
  dir = tempDir('flow-ui-');
  for (const [name, yaml] of Object.entries({ typed: TYPED, gated: GATED, flaky: FLAKY })) writeFileSync(join(dir, `${name}.yaml`), yaml);
  expect(flow(['run', 'typed.yaml', '--input', 'count=1'], dir).code).toBe(0);
  expect(flow(['run', 'flaky.yaml'], dir).code).toBe(1);
  ui = spawn(process.execPath, [FLOW_BIN, 'ui', '--port', '0', '--no-open'], { cwd: dir });
  url = await new Promise<string>((resolve, reject) => {
    let err = '';
    ui.stderr!.on('data', (d) => {
      err += d;
      const found = /flow: serving (\S+)/.exec(err)?.[1];
      if (found) resolve(found);
    });
    ui.on('exit', () => reject(new Error(`flow ui exited: ${err}`)));
  });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  await page.goto(url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  ui?.kill('SIGTERM');
});

const statusOf = (step: string) => page.locator(`[data-step-status="${step}"]`);

describe('flow ui', () => {
  it('lists the recorded runs; a filter lives in the URL and survives going to a run and back', async () => {
    await page.waitForURL(/\/ui\/runs$/);
    const rows = page.locator('table.runs tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.allInnerTexts()).toEqual([expect.stringMatching(/failed\s+flaky/), expect.stringMatching(/succeeded\s+typed/)]);
    await screenshot(page, 'runs');
    await expectAccessible(page);
    await page.getByLabel('Status').selectOption('failed');
    await page.waitForURL(/status=failed/);
    await expect.poll(() => rows.count()).toBe(1);
    await page.locator('table.runs a').first().click();
    await page.waitForURL(/\/ui\/runs\/\w+$/);
    await page.goBack();
    await page.waitForURL(/status=failed/);
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
    await page.getByLabel('Status').selectOption('');
  });

  it('shows a run started in another terminal on its own, and its page turns the step from running to succeeded live', async () => {
    await page.goto(url.replace(/\/\?token=.*/, '/ui/runs'));
    const driver = spawn(process.execPath, [FLOW_BIN, 'run', 'gated.yaml'], { cwd: dir, env: { ...process.env, CI: 'true' } });
    let stderr = '';
    driver.stderr.on('data', (d) => (stderr += d));
    await expect.poll(() => runIdOf(stderr), { timeout: 15_000 }).not.toBe('');
    const runId = runIdOf(stderr);
    const row = page.locator('table.runs tr', { hasText: runId });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    await row.locator('a').click();
    await page.waitForURL(new RegExp(`/ui/runs/${runId}$`));
    await expect.poll(() => statusOf('wait').textContent(), { timeout: 10_000 }).toBe('running');
    await screenshot(page, 'run-live');
    // A mark on this document: a reload would lose it.
    await page.evaluate(() => {
      (globalThis as unknown as { stillHere: boolean }).stillHere = true;
    });
    writeFileSync(join(dir, 'go'), '');
    await expect.poll(() => statusOf('wait').textContent(), { timeout: 15_000 }).toBe('succeeded');
    expect(await page.evaluate(() => (globalThis as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    await page.locator('table.steps a', { hasText: 'wait' }).click();
    await expect.poll(() => page.locator('pre.logs').textContent()).toMatch(/^waiting\nwent\n?$/);
    await screenshot(page, 'run');
    await expectAccessible(page);
  });

  it('starts a run from a workflow’s form with an input, and the run completes', async () => {
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.waitForURL(/\/ui\/workflows$/);
    await page.getByRole('link', { name: 'typed.yaml' }).click();
    await page.getByLabel('count').fill('41');
    await screenshot(page, 'workflow');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Run' }).click();
    await page.waitForURL(/\/ui\/runs\/\w+$/);
    await expect.poll(() => statusOf('show').textContent(), { timeout: 15_000 }).toBe('succeeded');
    const id = page.url().split('/').at(-1)!;
    expect(JSON.parse(flow(['show', id, '--json'], dir).stdout)).toMatchObject({ status: 'succeeded', outputs: { next: 42 } });
    // Its output in its colours: the red number a span of its own, the rest plain text.
    await page.locator('table.steps a', { hasText: 'show' }).click();
    await expect.poll(() => page.locator('pre.logs .ansi-31').textContent()).toBe('42');
    expect(await page.locator('pre.logs').textContent()).toMatch(/^42 done\n?$/);
    // Re-run from this step: the same run, its next attempt, the step run again.
    expect(await page.locator('code.cli', { hasText: '--from show' }).textContent()).toBe(`flow resume ${id} --from show`);
    await page.getByRole('button', { name: 'Re-run from this step' }).click();
    await expect
      .poll(() => (JSON.parse(flow(['show', id, '--json'], dir).stdout) as { attempt: number; status: string }).attempt, {
        timeout: 15_000,
      })
      .toBe(2);
    await expect.poll(() => statusOf('show').textContent(), { timeout: 15_000 }).toBe('succeeded');
    // Run again: a form holding the run's inputs; with one changed, a new run at a page of its own.
    await page.getByRole('button', { name: 'Run again' }).click();
    const again = page.getByRole('form', { name: 'Run again with these inputs' });
    expect(await again.getByLabel('count').inputValue()).toBe('41');
    await expectAccessible(page);
    await again.getByLabel('count').fill('6');
    await again.getByRole('button', { name: 'Start the new run' }).click();
    await page.waitForURL((u) => /\/ui\/runs\/\w+$/.test(u.pathname) && !u.pathname.endsWith(id));
    await expect.poll(() => statusOf('show').textContent(), { timeout: 15_000 }).toBe('succeeded');
    const next = page.url().split('/').at(-1)!;
    expect(JSON.parse(flow(['show', next, '--json'], dir).stdout)).toMatchObject({ inputs: { count: 6 }, outputs: { next: 7 } });
  });

  it('resumes a failed run from its page, and it completes', async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.locator('table.runs tr', { hasText: 'flaky' }).locator('a').click();
    await expect.poll(() => statusOf('check').textContent()).toBe('failed');
    expect(await page.locator('code.cli').first().textContent()).toMatch(/^flow resume \w+$/);
    writeFileSync(join(dir, 'fixed'), '');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => statusOf('check').textContent(), { timeout: 15_000 }).toBe('succeeded');
    // The timeline: the failed attempt, then the resumed one.
    const bars = page.locator('.lane', { hasText: 'check' }).locator('.bar');
    await expect.poll(() => bars.evaluateAll((els) => els.map((e) => e.className))).toEqual(['bar failed', 'bar succeeded']);
    await screenshot(page, 'run-resumed');
  });

  it("shows an AI step's call: model, tokens, cost, the prompt as written and the answer", async () => {
    const server = await startOpenAIServer([{ content: 'spam', usage: { prompt_tokens: 1000, completion_tokens: 10 } }]);
    try {
      writeFileSync(
        join(dir, 'ask.yaml'),
        'name: ask\nsteps:\n  - { id: classify, type: ai, config: { model: gpt-4o-mini, system: "Answer spam or ham.", prompt: "WIN A PRIZE" } }\n',
      );
      // Not `flow` (spawnSync): the test's own server answers in this process, which must not be blocked.
      const r = await flowAsync(['run', 'ask.yaml'], dir, { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'sk-test' });
      const id = runIdOf(r.stderr);
      await page.goto(url.replace(/\/\?token=.*/, `/ui/runs/${id}?step=classify`));
      const panel = page.locator('.ai');
      await expect.poll(() => panel.locator('pre.prompt').textContent()).toBe('Answer spam or ham.\n\nWIN A PRIZE');
      expect(await panel.locator('pre.response').textContent()).toBe('spam');
      expect(await panel.locator('p').textContent()).toBe('model gpt-4o-mini · 1,010 tokens, $0.000156');
      await screenshot(page, 'run-ai');
    } finally {
      await server.close();
    }
  });

  it('compares two runs: their inputs side by side, whether they ran the same text, each step in both', async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    const typed = page.locator('table.runs tr', { hasText: 'typed' });
    // The form's run, its rerun, and the first run (count=1): the newest and the oldest are compared.
    await expect.poll(() => typed.count()).toBe(3);
    const all = await typed.locator('td a').allTextContents();
    const ids = [all[0]!, all.at(-1)!];
    for (const id of ids) await page.getByLabel(`Compare ${id}`).check();
    await page.getByRole('link', { name: 'Compare the two runs' }).click();
    await page.waitForURL(/\/ui\/compare\?a=\w+&b=\w+$/);
    const count = page.locator('table.compare tr', { hasText: 'count' });
    await expect.poll(() => count.getAttribute('class')).toBe('differs');
    expect(await count.locator('td').allTextContents()).toEqual(['count', '6', '1']);
    expect(await page.locator('main p').first().textContent()).toContain('the same workflow text');
    expect(await page.locator('tr[data-step="show"] td').allTextContents()).toEqual([
      'show',
      expect.stringMatching(/^succeeded, /),
      expect.stringMatching(/^succeeded, /),
    ]);
    await screenshot(page, 'compare');
    await expectAccessible(page);
  });

  it('loads nothing from elsewhere, and its files weigh at most 80 KB gzipped', () => {
    const uiDir = join(import.meta.dirname, '..', '..', 'dist', 'ui');
    const files = [join(uiDir, 'index.html'), ...readdirSync(join(uiDir, 'assets')).map((f) => join(uiDir, 'assets', f))];
    const gz = files.reduce((n, f) => n + gzipSync(readFileSync(f)).length, 0);
    expect(gz).toBeLessThanOrEqual(80 * 1024);
    for (const f of files)
      expect(readFileSync(f, 'utf8')).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z0-9.-]+\.[a-z]{2,}\/[\w/.-]+\.(js|css)/i);
  });
});
