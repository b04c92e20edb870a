import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { APPLY_SERVER, application, postApplication } from '../helpers/applicant.ts';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { registerTestSite } from '../helpers/fixtures.ts';
import { newPage, screenshotOnFailure, scriptProblems, useBrowser } from '../helpers/browser.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';

/**
 * The operator console in a real browser (plain forms, no script, under the strict CSP): a wrong token, the sign-in,
 * a rejection from the review queue without its reason and then with it, and the sign-out; a member site suspended
 * and reinstated from its page; a month's settlement chosen and shown.
 */
describe('the operator console, in a real browser', () => {
  const kim = randomBytes(32).toString('base64url');
  let ts: TestServer;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async () => {
    ts = await startCardManager(
      { ...APPLY_SERVER, cards: { ...APPLY_SERVER.cards, denyList: { action: 'review', names: ['* browserson'], emails: [], mobiles: [] } } },
      { env: { OPERATOR_TOKENS: `kim:${kim}` } },
    );
  });
  after(() => ts?.stop());

  screenshotOnFailure(() => page);
  beforeEach(async () => {
    page = await newPage(browser());
  });

  it('signs in with the token, rejects an application from the queue as operator:kim, and signs out', async function () {
    this.timeout(60_000);
    const p = page!;
    const problems = scriptProblems(p);
    const { status, body } = await postApplication(ts, application({ legal_name: 'Jo Browserson' }));
    expect(status, JSON.stringify(body)).to.equal(202);
    const id = String(body.application_id);

    await p.goto(`${ts.url}/admin/applications`);
    await p.getByRole('heading', { name: 'Operator console' }).waitFor();
    expect(new URL(p.url()).pathname).to.equal('/admin/signin');
    await p.getByLabel('Operator token').fill('not the token at all');
    await p.getByRole('button', { name: 'Sign in' }).click();
    expect(await p.getByRole('alert').textContent()).to.equal('That is not an operator token of this card manager.');
    expect(await p.getByLabel('Operator token').inputValue()).to.equal('');
    await p.getByLabel('Operator token').fill(kim);
    await p.getByRole('button', { name: 'Sign in' }).click();

    await p.getByRole('heading', { name: 'Review queue' }).waitFor();
    expect(p.url()).not.to.include(kim);
    const item = p.locator(`#application-${id}`);
    await item.getByRole('heading', { name: 'Jo Browserson' }).waitFor();
    await item.getByRole('button', { name: 'Reject' }).click();
    expect(await p.getByRole('alert').textContent()).to.equal('Some fields need attention.');
    expect((await ts.db('applications').where({ id }).first()).status).to.equal('review');
    await p.locator(`#application-${id}`).getByLabel(/Reason for rejecting/).fill('Could not confirm the applicant by phone');
    await p.locator(`#application-${id}`).getByRole('button', { name: 'Reject' }).click();
    expect(await p.getByRole('status').textContent()).to.equal('Rejected: the pending card is closed and the applicant has been told why.');
    expect(await p.locator(`#application-${id}`).count()).to.equal(0);
    expect(await ts.db('applications').where({ id }).first()).to.include({ status: 'rejected', decided_by: 'operator:kim' });

    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.getByRole('heading', { name: 'Operator console' }).waitFor();
    await p.goto(`${ts.url}/admin/applications`);
    expect(new URL(p.url()).pathname).to.equal('/admin/signin');
    expect(problems).to.deep.equal([]);
  });

  it('suspends a member site from its page, shows it suspended, and reinstates it', async function () {
    this.timeout(60_000);
    const p = page!;
    const problems = scriptProblems(p);
    const site = await registerTestSite(ts, { name: 'Browser Books' });

    await p.goto(`${ts.url}/admin/sites`);
    await p.getByLabel('Operator token').fill(kim);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Review queue' }).waitFor();
    const nav = p.getByRole('navigation', { name: 'Operator console' });
    await nav.getByRole('link', { name: 'Member sites' }).click();
    await p.getByRole('heading', { name: 'Member sites' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Member sites' }).getAttribute('aria-current')).to.equal('page');
    await p.getByRole('link', { name: 'Browser Books' }).click();
    await p.getByRole('heading', { name: 'Browser Books', level: 1 }).waitFor();
    expect(await p.locator('#status').textContent()).to.equal('active');

    await p.getByLabel(/Reason to suspend it/).fill('Customers report missing orders');
    await p.getByRole('button', { name: 'Suspend the site' }).click();
    expect(await p.getByRole('status').textContent()).to.match(/^Suspended: /);
    expect(await p.locator('#status').textContent()).to.equal('suspended');
    expect(await p.locator('#status-reason').textContent()).to.equal('Customers report missing orders');
    expect(await p.getByRole('button', { name: 'Suspend the site' }).count()).to.equal(0);
    expect((await ts.db('member_sites').where({ client_id: site.clientId }).first()).status).to.equal('suspended');

    await p.getByLabel(/Reason to reinstate it/).fill('Orders delivered after all');
    await p.getByRole('button', { name: 'Reinstate the site' }).click();
    expect(await p.getByRole('status').textContent()).to.match(/^Reinstated: /);
    expect(await p.locator('#status').textContent()).to.equal('active');
    const trail = await ts.db('audit_log').where({ subject_type: 'member_site', subject_id: site.clientId }).whereIn('action', ['member_site.suspended', 'member_site.reinstated']).orderBy('id');
    expect(trail.map((e) => e.actor)).to.deep.equal(['operator:kim', 'operator:kim']);
    expect(problems).to.deep.equal([]);
  });

  it("shows this month's settlement, chosen in the month form, with a member site's captures in its table", async function () {
    this.timeout(60_000);
    const p = page!;
    const problems = scriptProblems(p);
    const site = await registerTestSite(ts, { name: 'Browser Records' });
    const card = await cardWithLimit(ts, 100_000);
    const a = await approveFor(ts, card, site, 12_345, 'An album');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    const month = todayIn(ts.config.billing.timeZone).slice(0, 7);

    await p.goto(`${ts.url}/admin/settlement`);
    await p.getByLabel('Operator token').fill(kim);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Review queue' }).waitFor();
    const nav = p.getByRole('navigation', { name: 'Operator console' });
    await nav.getByRole('link', { name: 'Settlement' }).click();
    await p.getByRole('heading', { name: /^Settlement for \d{4}-\d\d$/ }).waitFor();
    expect(await nav.getByRole('link', { name: 'Settlement' }).getAttribute('aria-current')).to.equal('page');

    await p.getByLabel(/^Month/).fill(month);
    await p.getByRole('button', { name: 'Show the month' }).click();
    await p.getByRole('heading', { name: `Settlement for ${month}` }).waitFor();
    const row = p.locator(`#line-${site.clientId}`);
    expect(await row.getByRole('link', { name: 'Browser Records' }).count()).to.equal(1);
    expect(await row.locator(`#captured-${site.clientId}`).textContent()).to.equal('12,345 KRW');
    expect(await row.locator(`#closed-${site.clientId}`).textContent()).to.equal('no');
    expect(await p.locator('#complete').textContent()).to.match(/^The month has not ended yet/);
    expect(await p.getByRole('button', { name: /^Close / }).count()).to.equal(0);
    expect(problems).to.deep.equal([]);
  });
});
