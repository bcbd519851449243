// Debian's headless Chromium (installed by scripts/browser/ensure-chromium.sh) driven by
// playwright-core, for the specs that load the gateway's own pages in a real browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What a page's browser pretends to be, where the default is not what a case needs. */
export interface ChromiumPageOptions {
  /** The IANA time zone the page's clock runs in (the machine's when absent). */
  readonly timezoneId?: string;
}

/** Runs `use` on a page of a fresh headless Chromium, closed and its profile removed after. */
export async function withChromiumPage(
  use: (page: Page) => Promise<void>,
  options: ChromiumPageOptions = {},
): Promise<void> {
  // A fresh profile directory each run: playwright passes it as --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), 'aigw-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      ...options,
    });
    await use(await context.newPage());
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Waits for the usage page to finish loading: 'ready', or the error text it shows when it
 * failed (so a failed load names its cause).
 */
export async function usagePageLoaded(page: Page): Promise<string> {
  await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', {
    timeout: 60_000,
  });
  return (await page.locator('body').getAttribute('data-state')) === 'ready'
    ? 'ready'
    : await page.locator('#error').innerText();
}
