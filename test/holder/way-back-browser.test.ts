import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { APPLY_SERVER, issueByApplication, latestCode } from '../helpers/applicant.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * The card pages the holder's navigation links to without being pages of the signed-in session (change password,
 * report lost, new card number: they take the card number, as they do for someone who cannot sign in) and the pages
 * that end their flows: each leaves a way on, never a dead end.
 */
describe('the card pages outside the signed-in navigation, in a real browser', () => {
  let ts: TestServer;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  screenshotOnFailure(() => page);
  beforeEach(async () => {
    page = await newPage(browser());
  });

  const field = (p: Page, label: string) => p.getByLabel(label, { exact: true });

  async function signIn(p: Page, cardNumber: string, password: string): Promise<void> {
    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(cardNumber);
    await field(p, 'Card password').fill(password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
  }

  it('leads back to the account from the change password, report lost and new card number pages [no dead end]', async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Han Wayback' });
    await signIn(p, holder.cardNumber, holder.password);

    for (const [link, heading] of [
      ['Change password', 'Change my card password'],
      ['Report lost', 'Report my card lost'],
      ['New card number', 'Get a new card number'],
    ] as const) {
      await p.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
      await p.getByRole('heading', { name: heading }).waitFor();
      await p.getByRole('link', { name: 'Back to your account' }).click();
      await p.getByRole('heading', { name: 'Your account' }).waitFor();
    }

    // The page taking a code too.
    await p.goto(`${ts.url}/card/reissue`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await p.getByRole('button', { name: 'Send me a code' }).click();
    await field(p, 'Code').waitFor();
    await p.getByRole('link', { name: 'Back to your account' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
  });

  it('links to the sign-in beside the new card number and password, and they sign in [no dead end]', async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Han Reissued' });
    await p.goto(`${ts.url}/card/reissue`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await p.getByRole('button', { name: 'Send me a code' }).click();
    await field(p, 'Code').fill(await latestCode(ts, holder.accountId, 'reissue_code'));
    await p.getByRole('button', { name: 'Give me a new card' }).click();
    await p.getByRole('heading', { name: 'Your new card' }).waitFor();
    const number = (await p.locator('#card-number').innerText()).trim();
    const password = (await p.locator('#card-password').innerText()).trim();
    await p.getByRole('link', { name: 'Sign in to your card' }).click();
    await field(p, 'Card number').fill(number);
    await field(p, 'Card password').fill(password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
  });

  it('links to the sign-in once the password is changed, and the new password signs in [no dead end]', async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Han Changed' });
    await p.goto(`${ts.url}/card/password`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await field(p, 'Current password').fill(holder.password);
    await field(p, 'New password').fill('Quiet marble rivers');
    await field(p, 'New password again').fill('Quiet marble rivers');
    await p.getByRole('button', { name: 'Change password' }).click();
    await p.getByRole('heading', { name: 'Password changed' }).waitFor();
    await p.getByRole('link', { name: 'Sign in to your card' }).click();
    await field(p, 'Card number').fill(holder.cardNumber);
    await field(p, 'Card password').fill('Quiet marble rivers');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
  });

  it('links to the sign-in once the password is reset with a code [no dead end]', async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Han Reset' });
    await p.goto(`${ts.url}/card/password/reset`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await p.getByRole('button', { name: 'Send me a code' }).click();
    await field(p, 'Code').fill(await latestCode(ts, holder.accountId, 'password_reset_code'));
    await field(p, 'New password').fill('Amber tide lanterns');
    await field(p, 'New password again').fill('Amber tide lanterns');
    await p.getByRole('button', { name: 'Set the new password' }).click();
    await p.getByRole('heading', { name: 'Password reset' }).waitFor();
    await p.getByRole('link', { name: 'Sign in to your card' }).click();
    await field(p, 'Card number').fill(holder.cardNumber);
    await field(p, 'Card password').fill('Amber tide lanterns');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(p.url()).to.equal(`${ts.url}/card/account`);
  });
});
