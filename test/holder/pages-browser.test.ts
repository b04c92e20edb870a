import { AxeBuilder } from '@axe-core/playwright';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { APPLY_SERVER, application, birthdateForAge, issueByApplication, latestCode, postApplication, uniqueEmail } from '../helpers/applicant.ts';
import { newPage, screenshotOnFailure, scriptProblems, useBrowser } from '../helpers/browser.ts';
import { registerTestSite, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { capture } from '../../src/approvals/capture.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { repay } from '../../src/ledger/repay.ts';
import { approveFor, ledgerOf, statementDayToday } from '../ledger/fixtures.ts';

/**
 * The holder's pages as a guardian uses them in a real browser (no script on these pages: plain forms under the strict
 * CSP): a wrong password, then the sign-in; the account page's warning; the activity; a child's card and its limit;
 * a change of email with the code sent to it; the language of the messages.
 */
describe("a guardian on the holder's pages, in a real browser", () => {
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

  it('signs in after a wrong password, sees it on the account and activity pages, pauses a child\'s card and changes the email', async function () {
    this.timeout(60_000);
    const p = page!;
    const problems = scriptProblems(p);

    const guardian = await issueByApplication(ts, { legal_name: 'Seo Guardian' });
    const childApp = application({ legal_name: 'Seo Child', birthdate: birthdateForAge(16), guardian_card_number: guardian.cardNumber, guardian_password: guardian.password });
    const { status, body } = await postApplication(ts, childApp);
    expect(status, JSON.stringify(body)).to.equal(201);
    const childCard = await ts.db('cards').where({ id: body.card_id }).first();
    const child: TestCard = { accountId: String(childCard.account_id), cardId: String(body.card_id), number: String(body.card_number), password: String(childApp.password) };
    const site = await registerTestSite(ts, { name: 'Webtoon Corner' } as never);
    await approveFor(ts, child, site, 3_000, 'Episode 12');

    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(guardian.cardNumber);
    await field(p, 'Card password').fill('not the password');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('alert').waitFor();
    expect(await field(p, 'Card number').inputValue()).to.equal(guardian.cardNumber);
    await field(p, 'Card password').fill(guardian.password);
    await p.getByRole('button', { name: 'Sign in' }).click();

    await p.getByRole('navigation').getByRole('link', { name: 'Account', exact: true }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await p.getByText(/A wrong password was entered for this card/).count()).to.equal(1);

    await p.getByRole('navigation').getByRole('link', { name: 'Activity' }).click();
    await p.getByRole('heading', { name: 'Your card activity' }).waitFor();
    await p.getByText('Wrong password at the sign-in to these card pages.').waitFor();

    await p.getByRole('navigation').getByRole('link', { name: "Children's cards" }).click();
    const ward = p.locator('section.ward', { has: p.getByRole('heading', { name: 'Seo Child' }) });
    await ward.getByText('Webtoon Corner').waitFor();
    expect(await ward.locator('dd.month').textContent()).to.equal('3,000 KRW');
    await ward.getByLabel('New limit (KRW)').fill('0');
    await ward.getByLabel('Your card password').fill(guardian.password);
    await ward.getByRole('button', { name: 'Set the limit' }).click();
    await p.getByText('The limit of Seo Child is now 0 KRW.').waitFor();
    expect(Number((await ts.db('accounts').where({ id: child.accountId }).first()).credit_limit)).to.equal(0);

    await p.getByRole('navigation').getByRole('link', { name: 'Contact details' }).click();
    const fresh = uniqueEmail('browser-guardian');
    await field(p, 'New email address').fill(fresh);
    await field(p, 'Card password').fill(guardian.password);
    await p.getByRole('button', { name: 'Send me the codes' }).click();
    await p.getByRole('heading', { name: 'Confirm your new contact details' }).waitFor();
    await p.getByLabel(`Code sent to ${fresh.slice(0, 2)}***@example.com`, { exact: true }).fill(await latestCode(ts, guardian.accountId, 'contacts_change_code', fresh));
    await p.getByLabel(/^Code sent to your current contact/).fill(await latestCode(ts, guardian.accountId, 'contacts_change_proof'));
    await p.getByRole('button', { name: 'Change my contact details' }).click();
    await p.getByText('Your contact details are changed. We told your old ones too.').waitFor();
    expect(await p.locator('#current-email').textContent()).to.equal(fresh);

    // The language of the messages, on the same page: chosen from the list, saved, the choice shown.
    await field(p, 'Language').selectOption({ label: '한국어' });
    await p.getByRole('button', { name: 'Save language' }).click();
    await p.getByText('Your messages will be in 한국어 from the next one on.').waitFor();
    expect(await field(p, 'Language').inputValue()).to.equal('ko');
    expect((await ts.db('accounts').where({ id: guardian.accountId }).first()).locale).to.equal('ko');

    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('keeps the navigation tidy on a 375 px phone: Sign out on one line within the screen, the statement day one tap away', async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Min Phone' });
    await p.setViewportSize({ width: 375, height: 740 });
    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await field(p, 'Card password').fill(holder.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    const nav = p.locator('nav.holder-nav');

    for (const [language, signOut, statementDay] of [['en', 'Sign out', 'Statement day'], ['ko', '로그아웃', '명세서 작성일']] as const) {
      await p.setExtraHTTPHeaders({ 'accept-language': language });
      await p.goto(`${ts.url}/card/account`);
      const button = nav.getByRole('button', { name: signOut });
      const box = await button.boundingBox();
      expect(box, language).to.not.equal(null);
      expect(box!.x, language).to.be.at.least(0);
      expect(box!.x + box!.width, language).to.be.at.most(375);
      // One line: its text makes one line box (a wrapped label makes two).
      const lines = await button.evaluate((b) => {
        const range = document.createRange();
        range.selectNodeContents(b);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      });
      expect(lines, language).to.equal(1);
      // Each link on one line too, and nothing wider than the screen.
      const broken = await nav.getByRole('link').evaluateAll((links) => links.filter((a) => a.getClientRects().length > 1).map((a) => a.textContent));
      expect(broken, language).to.deep.equal([]);
      expect(await p.evaluate(() => document.documentElement.scrollWidth), language).to.be.at.most(375);

      await nav.getByRole('link', { name: statementDay, exact: true }).click();
      await p.waitForURL(`${ts.url}/card/statement-day`);
      await p.getByRole('heading', { name: statementDay }).waitFor();
      expect(await nav.getByRole('link', { name: statementDay, exact: true }).getAttribute('aria-current')).to.equal('page');
    }
  });

  it('fits the activity on a 375 px phone: what happened readable beside when and which card, no sideways scroll', async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Bae Phone' });
    const card: TestCard = { accountId: holder.accountId, cardId: holder.cardId, number: holder.cardNumber, password: holder.password };
    await approveFor(ts, card, await registerTestSite(ts, { name: 'Webtoon Corner Premium' } as never), 4_000, 'Episode 7');
    await p.setViewportSize({ width: 375, height: 740 });
    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await field(p, 'Card password').fill(holder.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    for (const [language, heading] of [['en', 'Your card activity'], ['ko', '카드 이용 내역']] as const) {
      await p.setExtraHTTPHeaders({ 'accept-language': language });
      await p.goto(`${ts.url}/card/activity`);
      await p.getByRole('heading', { name: heading }).waitFor();
      const table = p.locator('#activity');
      const fits = await table.evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth);
      expect(fits, `${language}: the table scrolls sideways`).to.equal(true);
      // The words of each entry: a column of a word or two per line is not readable.
      const narrowest = await table.locator('tbody td:last-child').evaluateAll((cells) => Math.min(...cells.map((c) => c.getBoundingClientRect().width)));
      expect(narrowest, language).to.be.at.least(100);
    }
  });

  it('sets up an authenticator app on a 375 px phone: the otpauth link opens the app, the key fits the screen', async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Gu Phone' });
    await p.setViewportSize({ width: 375, height: 740 });
    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await field(p, 'Card password').fill(holder.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    for (const [language, setUp, heading] of [['en', 'Set up an authenticator app', 'Set up an authenticator app'], ['ko', '인증 앱 설정', '인증 앱 설정']] as const) {
      await p.setExtraHTTPHeaders({ 'accept-language': language });
      await p.goto(`${ts.url}/card/security`);
      await p.getByRole('button', { name: setUp }).click();
      await p.getByRole('heading', { name: heading }).waitFor();
      // "Open the link on your phone": a link a tap opens in the authenticator app, not text to copy.
      const href = await p.locator('a#otpauth-uri').getAttribute('href');
      expect(href, language).to.match(/^otpauth:\/\/totp\//);
      const key = await p.locator('#totp-secret').boundingBox();
      expect(key!.x + key!.width, `${language}: the key runs off the screen`).to.be.at.most(375);
      expect(await p.evaluate(() => document.documentElement.scrollWidth), language).to.be.at.most(375);
    }
  });

  it('lets a keyboard reach the tables that scroll sideways on a 375 px phone (account, reports of payments, children\'s cards)', async function () {
    this.timeout(60_000);
    const p = page!;
    const guardian = await issueByApplication(ts, { legal_name: 'Jo Keyboard' });
    const card: TestCard = { accountId: guardian.accountId, cardId: guardian.cardId, number: guardian.cardNumber, password: guardian.password };
    const site = await registerTestSite(ts, { name: 'Webtoon Corner Premium' } as never);
    await approveFor(ts, card, site, 12_000, 'Season 3, episodes 1 to 12');
    const child = await postApplication(ts, application({ legal_name: 'Jo Child', birthdate: birthdateForAge(15), guardian_card_number: guardian.cardNumber, guardian_password: guardian.password }));
    expect(child.status, JSON.stringify(child.body)).to.equal(201);
    const childCard = await ts.db('cards').where({ id: child.body.card_id }).first();
    await approveFor(ts, { accountId: String(childCard.account_id), cardId: String(child.body.card_id), number: '', password: '' }, site, 3_000, 'Episode 12');
    await p.setViewportSize({ width: 375, height: 740 });
    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(guardian.cardNumber);
    await field(p, 'Card password').fill(guardian.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    const approvalNo = await p.locator('#approvals tbody td').nth(1).innerText();
    await p.goto(`${ts.url}/card/disputes?approval=${approvalNo}`);
    await p.getByLabel('The amount is wrong').check();
    await p.getByRole('button', { name: 'Send the report' }).click();
    await p.getByText('Your report was received.').waitFor();
    for (const path of ['/card/account', '/card/disputes', '/card/wards']) {
      await p.goto(`${ts.url}${path}`);
      const { violations } = await new AxeBuilder({ page: p }).withRules(['scrollable-region-focusable']).analyze();
      expect(violations.flatMap((v) => v.nodes.map((n) => n.target.join(' '))), path).to.deep.equal([]);
      // Each such region is named, so that a screen reader says which table the focus is on.
      const unnamed = await p.locator('.ledger').evaluateAll((boxes) => boxes.filter((b) => !b.getAttribute('aria-label')).length);
      expect(unnamed, path).to.equal(0);
    }
  });

  it("fits every holder table on a 320 and a 375 px phone without a sideways scroll, each value beside its column's name", async function () {
    this.timeout(90_000);
    const p = page!;
    const guardian = await issueByApplication(ts, { legal_name: 'Oh Narrow' });
    await ts.db('accounts').where({ id: guardian.accountId }).update({ credit_limit: 100_000, statement_day: statementDayToday(ts.config.billing.timeZone) });
    const card: TestCard = { accountId: guardian.accountId, cardId: guardian.cardId, number: guardian.cardNumber, password: guardian.password };
    const site = await registerTestSite(ts, { name: 'Webtoon Corner Premium Collection' } as never);
    // A statement with a charge, a refund-free payment received, a hold still open and a report: every table of every page.
    const charged = await approveFor(ts, card, site, 12_000, 'Season 3, episodes 1 to 12, with the bonus chapters');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, actor: 'test' }));
    await repay(ledgerOf(ts), { accountId: guardian.accountId, amount: 2_000, currency: 'KRW', source: 'operator', actor: 'test' });
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    await approveFor(ts, card, site, 3_000, 'Episode 12');
    await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo: charged.approvalNo, reason: 'wrong_amount', details: 'Charged twice for the bonus chapters', actor: `card:${card.cardId}` },
    );
    const child = await postApplication(ts, application({ legal_name: 'Oh Child', birthdate: birthdateForAge(15), guardian_card_number: guardian.cardNumber, guardian_password: guardian.password }));
    expect(child.status, JSON.stringify(child.body)).to.equal(201);
    const childCard = await ts.db('cards').where({ id: child.body.card_id }).first();
    await approveFor(ts, { accountId: String(childCard.account_id), cardId: String(child.body.card_id), number: '', password: '' }, site, 3_000, 'Episode 12');
    const statement = await ts.db('statements').where({ account_id: guardian.accountId }).first('id');

    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(guardian.cardNumber);
    await field(p, 'Card password').fill(guardian.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    const found: string[] = [];
    const cdp = await p.context().newCDPSession(p);
    for (const language of ['en', 'ko'] as const) {
      await p.setExtraHTTPHeaders({ 'accept-language': language });
      for (const path of ['/card/account', `/card/account?statement=${statement.id}`, '/card/activity', '/card/disputes', '/card/wards']) {
        await p.goto(`${ts.url}${path}`);
        const tables = await p.locator('.ledger table').count();
        if (tables === 0) found.push(`${language} ${path}: no table to measure`);
        for (const width of [320, 375]) {
          await p.setViewportSize({ width, height: 740 });
          const wide = await p.locator('.ledger').evaluateAll((boxes) =>
            boxes.filter((b) => b.scrollWidth > b.clientWidth).map((b) => `${b.getAttribute('aria-label')}: ${b.scrollWidth} > ${b.clientWidth}`),
          );
          for (const w of wide) found.push(`${language} ${width}px ${path} ${w}`);
          // A stacked cell says which column it is, in the page's language: a value alone is a riddle.
          const unlabelled = await p.locator('.ledger tbody td').evaluateAll((cells) =>
            cells
              .filter((c) => {
                const before = getComputedStyle(c, '::before').content;
                return c.textContent!.trim() !== '' && (before === 'none' || before === 'normal' || before.replace(/^"|"$/g, '').trim() === '');
              })
              .map((c) => c.textContent!.trim().slice(0, 30)),
          );
          for (const u of unlabelled) found.push(`${language} ${width}px ${path} a value without its column's name: ${u}`);
          // Stacked for the eye only: a screen reader still finds a table with its column headers.
          // (Chromium's own accessibility tree: a table laid out as blocks may lose its role there, which the DOM does not show.)
          const { nodes } = await cdp.send('Accessibility.getFullAXTree');
          const read = { tables: nodes.filter((n) => n.role?.value === 'table').length, cells: nodes.filter((n) => n.role?.value === 'cell').length };
          if (read.tables !== tables || read.cells === 0) found.push(`${language} ${width}px ${path} read as ${read.tables} tables, ${read.cells} cells`);
        }
        await p.setViewportSize({ width: 1280, height: 740 });
      }
    }
    expect(found, `\n${found.join('\n')}\n`).to.deep.equal([]);
  });

  it("fits the account page's tables without a sideways scroll on a desktop screen: every column readable", async function () {
    this.timeout(60_000);
    const p = page!;
    const holder = await issueByApplication(ts, { legal_name: 'Han Reader' });
    const card: TestCard = { accountId: holder.accountId, cardId: holder.cardId, number: holder.cardNumber, password: holder.password };
    const site = await registerTestSite(ts, { name: 'Webtoon Corner Premium' } as never);
    await approveFor(ts, card, site, 12_000, 'Season 3, episodes 1 to 12');
    await approveFor(ts, card, site, 3_000, 'Episode 12');
    await p.setViewportSize({ width: 1280, height: 900 });
    await p.goto(`${ts.url}/card/signin`);
    await field(p, 'Card number').fill(holder.cardNumber);
    await field(p, 'Card password').fill(holder.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Your account' }).waitFor();
    const overflowing = () =>
      p.locator('.ledger').evaluateAll((boxes) =>
        boxes.filter((b) => b.scrollWidth > b.clientWidth).map((b) => `${b.querySelector('table')?.id}: ${b.scrollWidth} > ${b.clientWidth}`),
      );
    expect(await p.locator('.ledger').count()).to.equal(2);
    expect(await overflowing()).to.deep.equal([]);
    await p.setExtraHTTPHeaders({ 'accept-language': 'ko' });
    await p.goto(`${ts.url}/card/account`);
    await p.getByRole('heading', { name: '내 계정' }).waitFor();
    expect(await overflowing()).to.deep.equal([]);
  });
});

