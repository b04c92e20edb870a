import type { Page } from 'playwright-core';
import { newPage, screenshotOnFailure, useBrowser } from './browser.ts';

/**
 * A browser test that fails on purpose, for test/http/browser-artifacts.test.ts to run in a mocha of its own and find
 * its screenshot. Not a *.test.ts file: the suite never runs it. ARTIFACT_TAG makes its title, so its file, unique.
 */
describe('a browser test failing on purpose', () => {
  const browser = useBrowser();
  let page: Page | undefined;
  screenshotOnFailure(() => page);
  beforeEach(async () => {
    page = await newPage(browser());
  });

  it(`fails on a page (${process.env.ARTIFACT_TAG ?? 'untagged'})`, async () => {
    await page!.setContent('<h1>Failed on purpose</h1>');
    throw new Error('failing on purpose');
  });
});
