import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export { CHROMIUM, launchChromium as launchBrowser } from '../../scripts/chromium.mjs';
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui');

/** Keeps a picture of the page as a test artefact (test-results/ui/NAME.png). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's checks on the page as it is: no serious or critical violation. */
export async function expectAccessible(page: Page): Promise<void> {
  // Evaluated by the browser's debugging protocol, which the page's policy (no inline script) does not govern.
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: () => Promise<{ violations: { id: string; impact: string; help: string }[] }> } })
      .axe;
    return (await axe.run()).violations;
  })) as { id: string; impact: string; help: string }[];
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}
