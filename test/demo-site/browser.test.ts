import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { formatCardNumber } from '../../src/cards/card-number.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { SITE_NAME, startDemoSite, type RunningDemo } from './demo-server.ts';


/** A card with room on its credit line (cards issued by the fixture start at 0). */
async function cardWithCredit(ts: TestServer, age: number, name: string): Promise<TestCard> {
  const c = await issueTestCard(ts, birthdateForAge(age), name);
  await ts.db('accounts').where({ id: c.accountId }).update({ credit_limit: 100_000 });
  return c;
}

describe('demo member site in a real browser', () => {
  let ts: TestServer;
  let demo: RunningDemo;
  let card: TestCard;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async () => {
    ts = await startCardManager();
    // Strict mode asks the card manager at every view (no status cache), so "at once" is shown without waiting out a cache.
    demo = await startDemoSite(ts, { strictCacheSeconds: 0 });
    card = await cardWithCredit(ts, 35, 'Test Holder');
  });
  after(async () => {
    await demo?.stop();
    await ts?.stop();
  });

  screenshotOnFailure(() => page);
  beforeEach(async () => {
    page = await newPage(browser());
  });

  function onCardManager(url: URL): boolean {
    return url.origin === ts.url;
  }

  /** From the demo home page to the card manager's hosted login form. */
  async function openHostedLogin(p: Page): Promise<void> {
    await p.goto(`${demo.url}/`);
    await p.getByRole('link', { name: 'Log in with cyber card' }).click();
    await p.waitForURL((u) => onCardManager(u) && u.pathname === '/auth');
    await p.getByLabel('Card number').waitFor();
  }

  async function submitLogin(p: Page, number: string, password: string): Promise<void> {
    await p.getByLabel('Card number').fill(number);
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Log in', exact: true }).click();
  }

  /** The whole log-in, ending on the demo site's /me page. */
  async function logInThroughDemo(p: Page): Promise<void> {
    await openHostedLogin(p);
    await submitLogin(p, formatCardNumber(card.number), card.password);
    await p.getByRole('button', { name: 'Allow' }).click();
    await p.waitForURL(`${demo.url}/me`);
  }

  /** Opens an item, clicks Buy, logs in with `c` on the hosted page; stops there (approval or refusal page). */
  async function startPurchase(p: Page, itemId: string, c: TestCard): Promise<void> {
    await p.goto(`${demo.url}/items/${itemId}`);
    await p.getByRole('link', { name: /^Buy for/ }).click();
    await p.waitForURL((u) => onCardManager(u) && u.pathname === '/auth');
    await submitLogin(p, formatCardNumber(c.number), c.password);
  }

  /** A whole purchase: buy, log in, approve; ends on the item page with its receipt. */
  async function buy(p: Page, itemId: string, c: TestCard): Promise<string> {
    await startPurchase(p, itemId, c);
    await p.getByRole('button', { name: /^Approve/ }).click();
    await p.waitForURL(`${demo.url}/items/${itemId}`);
    return ((await p.locator('#approval-no').textContent()) ?? '').trim();
  }

  async function jsonIn(p: Page, selector: string): Promise<Record<string, unknown>> {
    return JSON.parse((await p.locator(selector).textContent()) ?? 'null') as Record<string, unknown>;
  }

  it('logs a card holder in from the demo home page through the hosted login and consent pages', async () => {
    const p = page!;
    const authRequests: URL[] = [];
    p.on('request', (req) => {
      const u = new URL(req.url());
      if (onCardManager(u) && u.pathname === '/auth') authRequests.push(u);
    });

    await openHostedLogin(p);
    expect(await p.getByText(`${SITE_NAME} is asking you to log in.`).isVisible()).to.equal(true);
    // The demo pushes its request (PAR): the browser only ever carries client_id and request_uri.
    expect(authRequests).to.have.length.greaterThan(0);
    expect([...authRequests[0]!.searchParams.keys()].sort()).to.deep.equal(['client_id', 'request_uri']);

    await submitLogin(p, formatCardNumber(card.number), card.password);
    await p.getByRole('button', { name: 'Allow' }).click();

    await p.waitForURL(`${demo.url}/me`);
    expect(await p.getByRole('heading', { name: 'You are logged in' }).isVisible()).to.equal(true);
    const claims = await jsonIn(p, '#claims');
    expect(claims.iss).to.equal(ts.url);
    expect(claims.aud).to.equal(demo.clientId);
    expect(claims.sub).to.be.a('string').and.not.equal(card.accountId);
    const resource = await jsonIn(p, '#resource');
    expect(resource.error).to.equal(undefined);
    expect(resource.client_id).to.equal(demo.clientId);
    expect(resource.aud).to.equal(demo.resource);
    expect(resource.sub).to.equal(claims.sub);

    // A members-only free item is delivered by the site's resource server on the login token.
    await p.goto(`${demo.url}/items/newsletter`);
    expect(await p.locator('#content').textContent()).to.include('behind the scenes');
  });

  it('buys a paid item: approval, content unlocked with its approval number, and the charge captured', async () => {
    const p = page!;
    await p.goto(`${demo.url}/items/episode-1`);
    expect(await p.locator('#content').count()).to.equal(0);
    const approvalNo = await buy(p, 'episode-1', card);
    expect(approvalNo).to.match(/^\d{4}-\d{4}$/);
    expect(await p.locator('#content').textContent()).to.include('Episode 1 is playing');
    expect((await p.locator('#approval-status').textContent())?.trim()).to.equal('approved');
    // A time a person reads, its zone named, not the API's ISO string.
    expect((await p.locator('#approved-at').textContent())?.trim()).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    const row = await ts.db('approvals').where({ approval_no: approvalNo }).first();
    expect(row).to.include({ client_id: demo.clientId, status: 'approved', content_ref: 'episode-1' });
    expect(Number(row.amount)).to.equal(1500);

    expect(await demo.site.settle()).to.equal(1);
    await p.reload();
    expect((await p.locator('#approval-status').textContent())?.trim()).to.equal('captured');
    expect(await p.locator('#captured').textContent()).to.include('1,500');
    expect(await p.locator('#content').textContent()).to.include('Episode 1 is playing');
    expect((await ts.db('approvals').where({ approval_no: approvalNo }).first()).status).to.equal('captured');
  });

  it('refuses a minor the 19+ section at the card manager, and the site gets no approval', async () => {
    const p = page!;
    const minor = await cardWithCredit(ts, 17, 'Young Holder');
    await startPurchase(p, 'late-night', minor);
    await p.getByText('This content is for 19 and over').waitFor();
    // The refusal is read first, as every hosted page's heading is: the focus does not stay on the page's top.
    await p.waitForLoadState('load');
    expect(await p.evaluate(() => document.activeElement?.tagName)).to.equal('H1');
    await p.locator('#return').click();
    await p.waitForURL((u) => u.origin === demo.url);
    expect(await p.getByRole('heading', { name: 'Purchase refused' }).isVisible()).to.equal(true);
    // The demo's own words for the code, not the card manager's error_description ("under_age: …").
    expect(await p.locator('#message').textContent()).to.equal('You must be 19 or over to see this section.');
    expect(await p.locator('main').innerText()).to.not.match(/under_age|card holder/);
    expect(await p.locator('#content').count()).to.equal(0);
    expect(await ts.db('approvals').where({ account_id: minor.accountId }).first()).to.equal(undefined);
  });

  it('tells a holder who denies the payment that nothing was charged, in its own words', async () => {
    const p = page!;
    await startPurchase(p, 'album', card);
    await p.getByRole('button', { name: 'Deny' }).click();
    await p.waitForURL((u) => u.origin === demo.url);
    expect(await p.getByRole('heading', { name: 'Purchase cancelled' }).isVisible()).to.equal(true);
    expect(await p.locator('#message').textContent()).to.equal('You declined the payment. Nothing was charged.');
    expect(await p.locator('main').innerText()).to.not.include('declined:');
  });

  it('lets an adult into the 19+ section after paying, with age_over_19 checked by the kit', async () => {
    const p = page!;
    const approvalNo = await buy(p, 'late-night', card);
    expect(approvalNo).to.match(/^\d{4}-\d{4}$/);
    expect(await p.locator('#content').textContent()).to.include('late-night special is playing');
  });

  /** Opens a free 19+ item, clicks Enter, logs in with `c` on the hosted page; stops there (consent or refusal page). */
  async function startEntry(p: Page, itemId: string, c: TestCard): Promise<void> {
    await p.goto(`${demo.url}/items/${itemId}`);
    await p.getByRole('link', { name: /^Enter with cyber card/ }).click();
    await p.waitForURL((u) => onCardManager(u) && u.pathname === '/auth');
    await submitLogin(p, formatCardNumber(c.number), c.password);
  }

  it('lets an adult into the free 19+ item through a claims request for age_over_19, with nothing to pay', async () => {
    const p = page!;
    const adult = await cardWithCredit(ts, 25, 'Free Adult Holder');
    await startEntry(p, 'late-night-trailer', adult);
    expect(await p.getByText('Know that you are 19 or over').isVisible()).to.equal(true);
    await p.getByRole('button', { name: 'Allow' }).click();
    await p.waitForURL(`${demo.url}/items/late-night-trailer`);
    expect(await p.locator('#content').textContent()).to.include('first look at the late-night special');
    expect(await ts.db('approvals').where({ account_id: adult.accountId }).first()).to.equal(undefined);
  });

  it('refuses a minor the free 19+ item at the card manager, and the demo says so in its own words', async () => {
    const p = page!;
    const minor = await cardWithCredit(ts, 17, 'Young Free Holder');
    await startEntry(p, 'late-night-trailer', minor);
    await p.getByText('This content is for 19 and over').waitFor();
    await p.locator('#return').click();
    await p.waitForURL((u) => u.origin === demo.url);
    expect(await p.getByRole('heading', { name: 'Entry refused' }).isVisible()).to.equal(true);
    expect(await p.locator('#message').textContent()).to.equal('You must be 19 or over to see this section.');
    expect(await p.locator('#content').count()).to.equal(0);
    const refused = await ts.db('audit_log').where({ subject_id: minor.accountId, action: 'access.refused_under_age' });
    expect(refused.map((r) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details).requiredAge)).to.deep.equal([19]);
  });

  it('tells a holder who presses Back after paying that the payment is complete, and never charges twice', async () => {
    const p = page!;
    const payer = await cardWithCredit(ts, 30, 'Back Button Holder');
    await startPurchase(p, 'album', payer);
    const approve = p.getByRole('button', { name: /^Approve/ });
    await approve.waitFor();
    const approvalPage = new URL(p.url()).pathname;
    const csrf = await p.locator('form:has(button:text-matches("^Approve")) input[name=csrf]').inputValue();
    await approve.click();
    await p.waitForURL(`${demo.url}/items/album`);
    await p.locator('#receipt').waitFor();

    // Back lands on the approval page, the answer to the login form: chromium asks to post it again, and does on reload.
    const resubmitPage = p.waitForEvent('framenavigated', { predicate: (f) => f === p.mainFrame() && f.url().startsWith('chrome-error:') });
    await p.goBack().catch(() => undefined); // net::ERR_CACHE_MISS: the "Confirm Form Resubmission" page
    await resubmitPage;
    await p.waitForLoadState();
    await p.reload();
    expect(new URL(p.url()).pathname).to.equal(approvalPage);
    await p.getByRole('heading', { name: 'This payment is complete' }).waitFor();
    expect(await p.locator('#finished').textContent()).to.include('does not pay again');
    expect(await p.getByRole('link', { name: `Back to ${SITE_NAME}` }).getAttribute('href')).to.equal(demo.url);

    // The Approve form posted again, with its token, approves nothing more.
    const uid = approvalPage.split('/')[2];
    const again = await p.request.post(`${ts.url}/interaction/${uid}/confirm`, { form: { csrf }, maxRedirects: 0 });
    expect(again.status()).to.equal(409);
    expect(await again.text()).to.include('This payment is complete');
    expect(await ts.db('approvals').where({ account_id: payer.accountId })).to.have.length(1);

    // Back once more reaches the spent authorization request, which returns to the demo: nothing waits there.
    await p.goBack();
    await p.waitForURL((u) => u.origin === demo.url && u.pathname === '/callback');
    expect(await p.getByRole('heading', { name: 'Nothing to finish here' }).isVisible()).to.equal(true);
    expect(await p.locator('#message').textContent()).to.equal('This log-in or purchase has already ended, and nothing more was charged.');
    await p.getByRole('link', { name: 'Back to the home page' }).click();
    expect(await p.locator('li', { hasText: 'Soundtrack album' }).textContent()).to.include('(bought)');
    expect(await ts.db('approvals').where({ account_id: payer.accountId })).to.have.length(1);
  });

  it('shows the error on the hosted page for a wrong password and never sends the browser back to the site', async () => {
    const p = page!;
    const callbacks: string[] = [];
    p.on('request', (req) => {
      if (req.url().startsWith(`${demo.url}/callback`)) callbacks.push(req.url());
    });
    await openHostedLogin(p);
    const spaced = formatCardNumber(card.number);
    await submitLogin(p, spaced, 'not the password');
    const alert = p.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).to.match(/not correct/);
    expect(onCardManager(new URL(p.url()))).to.equal(true);
    expect(await p.getByLabel('Password').inputValue()).to.equal('');
    expect(await p.content()).to.not.include('not the password');
    expect(callbacks).to.deep.equal([]);
  });

  it('stops a bought item at once in strict mode when the card is reported lost', async () => {
    const p = page!;
    const victim = await cardWithCredit(ts, 40, 'Careless Holder');
    const approvalNo = await buy(p, 'album', victim);
    expect(await p.locator('#content').textContent()).to.include('Twelve tracks');

    await reportLost(ts.db, { cardId: victim.cardId, actor: 'test', reason: 'lost in the test', proof: 'operator' });
    // The very next view is refused: no wait, no second try.
    await p.reload();
    // The demo's own words, from the approval's status, not the kit's text for developers ("Approval … is revoked").
    const refusal = await p.locator('#refusal').textContent();
    expect(refusal).to.equal(
      'This purchase no longer counts: it was cancelled (a card reported lost or blocked cancels its purchases). Nothing more is charged; buy it again to see it.',
    );
    expect(refusal).to.not.include(approvalNo);
    expect(await p.locator('#content').count()).to.equal(0);
    expect((await p.locator('#approval-status').textContent())?.trim()).to.equal('revoked');
  });

  it('signs the holder out of the card manager and the site through the demo log-out link', async () => {
    const p = page!;
    await logInThroughDemo(p);
    await p.getByRole('link', { name: 'Log out' }).click();
    await p.waitForURL((u) => onCardManager(u) && u.pathname.startsWith('/session/end'));
    await p.getByRole('button', { name: 'Sign out of the card manager too' }).click();
    await p.waitForURL(`${demo.url}/`);
    await p.getByRole('link', { name: 'Log in with cyber card' }).waitFor();
    await openHostedLogin(p);
    expect(await p.getByLabel('Password').isVisible()).to.equal(true);
  });

  it('says on the sign-out page what "No" leaves: out of the site whatever the answer, still signed in to the card manager', async () => {
    const p = page!;
    await logInThroughDemo(p);
    await p.getByRole('link', { name: 'Log out' }).click();
    await p.waitForURL((u) => onCardManager(u) && u.pathname.startsWith('/session/end'));
    // The provider signs the holder out of the site either way (its grant revoked): the page must not offer to
    // "stay signed in" as if the answer kept the site's session.
    const text = (await p.locator('main').innerText()).replace(/\s+/g, ' ');
    expect(text).to.include('You are signing out of Demo member site. Sign out of the card manager too?');
    expect(text).not.to.include('stay signed in');
    await p.getByRole('button', { name: 'No, only Demo member site' }).click();
    await p.waitForURL(`${demo.url}/`);
    await p.getByRole('link', { name: 'Log in with cyber card' }).click();
    // Still signed in at the card manager: no password asked, straight to what the site asks for.
    await p.getByRole('button', { name: 'Allow' }).waitFor();
    expect(await p.getByLabel('Password').count()).to.equal(0);
  });

  it('tells a holder who answers "No, stay signed in" at the sign-out page that they are still signed in, not signed out', async () => {
    const p = page!;
    await logInThroughDemo(p);
    await p.goto(`${ts.url}/session/end`);
    await p.getByRole('button', { name: 'No, stay signed in' }).click();
    await p.waitForURL(`${ts.url}/session/end/success`);
    const text = (await p.locator('main').innerText()).replace(/\s+/g, ' ');
    expect(text).to.include('You are still signed in');
    expect(text).to.not.include('signed out').and.not.include('has ended');
    // And so they are: a member site's log-in asks for no password.
    await p.goto(`${demo.url}/login`);
    await p.getByRole('button', { name: 'Allow' }).waitFor();
    expect(await p.getByLabel('Password').count()).to.equal(0);
  });

  it('tells a holder who answers "Yes" at the sign-out page that they are signed out', async () => {
    const p = page!;
    await logInThroughDemo(p);
    await p.goto(`${ts.url}/session/end`);
    await p.getByRole('button', { name: 'Yes, sign me out' }).click();
    await p.waitForURL(`${ts.url}/session/end/success`);
    expect(await p.getByRole('heading', { name: 'You are signed out' }).isVisible()).to.equal(true);
    await p.goto(`${demo.url}/login`);
    await p.getByLabel('Password').waitFor();
  });
});
