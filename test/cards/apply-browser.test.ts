import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { APPLY_SERVER, GOOD_PASSWORD, issueByApplication, latestCode, templatesFor, uniqueEmail, uniqueMobile, uniqueName } from '../helpers/applicant.ts';
import { newPage, screenshotOnFailure, scriptProblems, useBrowser } from '../helpers/browser.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { SITE_NAME, startDemoSite, type RunningDemo } from '../demo-site/demo-server.ts';

describe('application → issuance → log-in at the demo member site, in a real browser', () => {
  let ts: TestServer;
  let demo: RunningDemo;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    demo = await startDemoSite(ts);
  });
  after(async () => {
    await demo?.stop();
    await ts?.stop();
  });

  screenshotOnFailure(() => page);
  beforeEach(async () => {
    page = await newPage(browser());
  });

  const field = (p: Page, label: string) => p.getByLabel(label, { exact: true });

  it('applies on /apply, is shown the number once with a working copy button, logs in with it at the demo site and buys an item there', async function () {
    this.timeout(60_000);
    const p = page!;
    await p.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ts.url });
    const urls: string[] = [];
    p.on('request', (req) => urls.push(req.url()));
    const problems = scriptProblems(p);

    await p.goto(`${ts.url}/apply`);
    await p.getByRole('heading', { name: 'Apply for a cyber card' }).waitFor();
    // A name of its own: a holder with this name and birthdate already in the run's database sends it to review.
    const name = uniqueName('Choi');
    const email = uniqueEmail('browser');
    const mobile = uniqueMobile();
    await field(p, 'Full legal name').fill(name);
    await field(p, 'Date of birth').fill('1988-11-02');
    await field(p, 'Email address').fill(email);
    await field(p, 'Mobile number').fill(mobile);
    await field(p, 'Password').fill(GOOD_PASSWORD);
    await field(p, 'Password again').fill(`${GOOD_PASSWORD}?`);
    await field(p, 'I accept the terms of use').check();
    await p.getByRole('button', { name: 'Apply' }).click();

    // A slip: the form comes back with everything kept but the passwords, the message beside the field.
    await p.getByText('The two passwords are not the same.').waitFor();
    expect(await field(p, 'Full legal name').inputValue()).to.equal(name);
    expect(await field(p, 'Email address').inputValue()).to.equal(email);
    expect(await field(p, 'Mobile number').inputValue()).to.equal(mobile);
    expect(await field(p, 'I accept the terms of use').isChecked()).to.equal(true);
    expect(await field(p, 'Password').inputValue()).to.equal('');
    expect(await field(p, 'Password again').getAttribute('aria-invalid')).to.equal('true');
    expect(await field(p, 'Password again').getAttribute('aria-describedby')).to.equal('password_confirm-error');

    await field(p, 'Password').fill(GOOD_PASSWORD);
    await field(p, 'Password again').fill(GOOD_PASSWORD);
    await p.getByRole('button', { name: 'Apply' }).click();

    await p.getByRole('heading', { name: 'Your cyber card is ready' }).waitFor();
    expect(await p.getByRole('alert').textContent()).to.include('shown only');
    const shown = ((await p.locator('#card-number').textContent()) ?? '').trim();
    expect(shown).to.match(/^\d{4} \d{4} \d{4} \d{4}$/);
    const number = shown.replace(/ /g, '');

    await p.getByRole('button', { name: 'Copy card number' }).click();
    await p.getByText('Card number copied.').waitFor();
    expect(await p.evaluate(() => navigator.clipboard.readText())).to.equal(number);
    // Not a dead end: the way on to the holder's own pages (limits, a second factor) is their sign-in.
    expect(await p.getByRole('link', { name: 'your card pages' }).getAttribute('href')).to.equal('/card/signin');

    // Log in at the demo member site with the new card and the chosen password.
    await p.goto(`${demo.url}/`);
    await p.getByRole('link', { name: 'Log in with cyber card' }).click();
    await p.waitForURL((u) => u.origin === ts.url && u.pathname === '/auth');
    expect(await p.getByText(`${SITE_NAME} is asking you to log in.`).isVisible()).to.equal(true);
    await p.getByLabel('Card number').fill(shown);
    await p.getByLabel('Password').fill(GOOD_PASSWORD);
    await p.getByRole('button', { name: 'Log in', exact: true }).click();
    await p.getByRole('button', { name: 'Allow' }).click();
    await p.waitForURL(`${demo.url}/me`);
    expect(await p.getByRole('heading', { name: 'You are logged in' }).isVisible()).to.equal(true);
    const claims = JSON.parse((await p.locator('#claims').textContent()) ?? '{}') as Record<string, unknown>;
    expect(claims.name).to.equal(name);
    expect(claims.iss).to.equal(ts.url);

    // …and buys an item with it, which the demo's resource server then delivers with its approval number.
    await p.goto(`${demo.url}/items/episode-1`);
    expect(await p.locator('#content').count()).to.equal(0);
    await p.getByRole('link', { name: /^Buy for/ }).click();
    await p.waitForURL((u) => u.origin === ts.url && u.pathname === '/auth');
    await p.getByLabel('Card number').fill(shown);
    await p.getByLabel('Password').fill(GOOD_PASSWORD);
    await p.getByRole('button', { name: 'Log in', exact: true }).click();
    await p.getByRole('button', { name: /^Approve/ }).click();
    await p.waitForURL(`${demo.url}/items/episode-1`);
    expect(await p.locator('#content').textContent()).to.include('Episode 1 is playing');
    const approvalNo = ((await p.locator('#approval-no').textContent()) ?? '').trim();
    expect(approvalNo).to.match(/^\d{4}-\d{4}$/);
    const account = await ts.db('accounts').where({ email }).first();
    const approval = await ts.db('approvals').where({ approval_no: approvalNo }).first();
    expect(approval).to.include({ account_id: account.id, client_id: demo.clientId, status: 'approved', content_ref: 'episode-1' });

    // The number never travelled in a URL, and the page ran without script or CSP errors.
    for (const u of urls) {
      expect(u, 'a URL carried the card number').to.not.include(number);
      expect(decodeURIComponent(u)).to.not.include(shown);
    }
    expect(problems).to.deep.equal([]);
    expect(await templatesFor(ts, account.id)).to.include.members(['card_issued', 'new_device_login']);
  });
  it('reissues a lost card on /card/reissue, showing the new number and password once, each with a working copy button', async function () {
    this.timeout(60_000);
    const p = page!;
    await p.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ts.url });
    const problems = scriptProblems(p);
    const holder = await issueByApplication(ts);
    const api = (path: string, body: unknown) =>
      fetch(`${ts.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await api('/api/cards/lost', { card_number: holder.cardNumber, password: holder.password })).status).to.equal(200);

    await p.goto(`${ts.url}/card/reissue`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await p.getByRole('button', { name: 'Send me a code' }).click();
    await field(p, 'Code').fill(await latestCode(ts, holder.accountId, 'reissue_code'));
    await p.getByRole('button', { name: 'Give me a new card' }).click();

    await p.getByRole('heading', { name: 'Your new card' }).waitFor();
    const number = ((await p.locator('#card-number').textContent()) ?? '').replace(/ /g, '');
    const password = ((await p.locator('#card-password').textContent()) ?? '').trim();
    expect(number).to.match(/^\d{16}$/);
    await p.getByRole('button', { name: 'Copy card number' }).click();
    await p.getByText('Card number copied.').waitFor();
    expect(await p.evaluate(() => navigator.clipboard.readText())).to.equal(number);
    await p.getByRole('button', { name: 'Copy password' }).click();
    await p.getByText('Password copied.').waitFor();
    expect(await p.evaluate(() => navigator.clipboard.readText())).to.equal(password);
    expect(problems).to.deep.equal([]);
  });
});
