import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where failing tests leave their screenshots (git-ignored). */
export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '..', '..', 'test-artifacts');

/**
 * Debian's chromium, headless. Never a downloaded browser: CHROMIUM_PATH may point at another
 * local build. The flags keep it from phoning home (updates, sync, QUIC) during a test run.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

/** A page in a fresh context, so no cookies carry over from another test. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context.newPage();
}

/**
 * The script problems a page meets from now on (console errors, uncaught exceptions), for a test to expect none.
 * Non-2xx answers (a refused form's 400, a missing favicon) are logged as "Failed to load resource": not script problems.
 */
export function scriptProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  return problems;
}

/** A file name from a test title: letters, digits, dot, dash, underscore; at most 120 characters. */
export function artifactName(title: string): string {
  return (
    title
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 120) || 'test'
  );
}

/**
 * Registers hooks (call it inside a describe) that save test-artifacts/<test title>.png when a
 * test fails, then close the page's context either way. `getPage` returns the test's page, if any.
 */
export function screenshotOnFailure(getPage: () => Page | undefined): void {
  afterEach(async function saveScreenshotAndClose() {
    const page = getPage();
    if (!page) return;
    try {
      if (this.currentTest?.state === 'failed' && !page.isClosed()) {
        mkdirSync(ARTIFACTS_DIR, { recursive: true });
        const file = path.join(ARTIFACTS_DIR, `${artifactName(this.currentTest.fullTitle())}.png`);
        await page.screenshot({ path: file, fullPage: true, timeout: 5_000 }).catch((err: unknown) => {
          console.error(`could not save ${file}:`, err);
        });
      }
    } finally {
      await page.context().close();
    }
  });
}

/** One browser per test file: launched in `before`, closed in `after`. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async function launchChromium() {
    this.timeout(60_000);
    browser = await launchBrowser();
  });
  after(async function closeChromium() {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('the browser is not running (useBrowser() must be called inside a describe)');
    return browser;
  };
}
