import { AxeBuilder } from '@axe-core/playwright';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { capture } from '../../src/approvals/capture.ts';
import { queueLogout } from '../../src/db/backchannel-logouts.ts';
import { markAttemptFailed } from '../../src/db/outbox-leases.ts';
import { codeRequestKey } from '../../src/db/throttles.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { repay } from '../../src/ledger/repay.ts';
import { APPLY_SERVER, GOOD_PASSWORD, application, birthdateForAge, issueByApplication, latestCode, postApplication, uniqueEmail, uniqueMobile, uniqueName } from '../helpers/applicant.ts';
import { newPage, screenshotOnFailure, useBrowser } from '../helpers/browser.ts';
import { issueTestCard, payRequest, registerTestSite, siteClient, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, familyOf, familyWithOverdueChild, ledgerOf, makeGuardianOverdue, operator, startLedgerServer, statementDayToday } from '../ledger/fixtures.ts';
import { startDemoSite, type RunningDemo } from '../demo-site/demo-server.ts';

/** WCAG 2.0 and 2.1, levels A and AA: what the hosted pages promise their holders. */
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
/** A small phone, and a desktop screen. */
const WIDTHS = [375, 1280] as const;
/** WCAG 1.4.10's reflow width: a 1280 px screen zoomed to 400 %. Only measured for a sideways scroll. */
const REFLOW_WIDTH = 320;
const LANGUAGES = ['en', 'ko'] as const;
type Language = (typeof LANGUAGES)[number];

/**
 * Every hosted page a card holder or operator meets, in English and Korean, on a 375 px phone and a desktop screen,
 * each form also as it comes back with its errors, checked by axe-core against WCAG 2.1 A and AA. Pages are reached
 * the way people reach them (forms filled and sent, a real OIDC log-in and payment from the demo member site); each
 * test gathers every violation it meets and fails with the whole list, so one run shows all there is to fix.
 */
describe('accessibility of the hosted pages (axe-core, WCAG 2.1 A and AA), in a real browser', () => {
  const operatorToken = randomBytes(32).toString('base64url');
  const viewerToken = randomBytes(32).toString('base64url');
  let ts: TestServer;
  let demo: RunningDemo;
  const browser = useBrowser();
  let page: Page | undefined;

  before(async function () {
    this.timeout(60_000);
    ts = await startCardManager(
      {
        ...APPLY_SERVER,
        cards: { ...APPLY_SERVER.cards, denyList: { action: 'review', names: ['* reviewson'], emails: [], mobiles: [] } },
        // Between the demo's episode (1,500 KRW) and its album (3,000 KRW): the album asks for the authenticator code.
        stepUp: { above: 2_000, issuerLabel: 'Cyber card' },
      },
      { env: { OPERATOR_TOKENS: `kim:${operatorToken}, lee:${viewerToken}:viewer` } },
    );
    demo = await startDemoSite(ts);
  });
  after(async () => {
    await demo?.stop();
    await ts?.stop();
  });

  screenshotOnFailure(() => page);

  /**
   * A fresh page whose requests ask for `language`, the list its audits fill, and the audit: axe at each width, and
   * what axe does not judge (the page's declared language, reflow, where the focus lands).
   */
  async function open(language: Language, pageLanguage: string = language): Promise<{ p: Page; audit: (label: string) => Promise<void>; found: string[] }> {
    const p = await newPage(browser());
    page = p;
    await p.setExtraHTTPHeaders({ 'accept-language': language });
    const found: string[] = [];
    const audit = async (label: string) => {
      await p.waitForLoadState('domcontentloaded');
      for (const width of WIDTHS) {
        await p.setViewportSize({ width, height: 800 });
        // Legacy mode runs axe in the page itself: these pages have no frames to gather results from, and the default
        // opens a blank page per run to merge them, which makes the whole file several times slower.
        const { violations } = await new AxeBuilder({ page: p }).withTags(WCAG_TAGS).setLegacyMode().analyze();
        const at = `${label} [${language}, ${width}px ${new URL(p.url()).pathname}]`;
        for (const v of violations) {
          const where = v.nodes.map((n) => `${n.target.join(' ')}${n.any[0]?.message ? ` (${n.any[0].message})` : ''}`).join('; ');
          found.push(`${at} ${v.id}: ${v.help} → ${where}`);
        }
      }
      // Reflow (WCAG 1.4.10), which axe does not measure: nothing but a wide table's own box scrolls sideways.
      for (const width of [REFLOW_WIDTH, ...WIDTHS]) {
        await p.setViewportSize({ width, height: 800 });
        const wide = await p.evaluate(() => document.documentElement.scrollWidth);
        if (wide > width) found.push(`${label} [${language}, ${width}px ${new URL(p.url()).pathname}] reflow: the page is ${wide} px wide`);
        // A holder's table stacks its rows on a phone: it fits its box, no sideways scroll in there either.
        if (width > REFLOW_WIDTH && width !== 375) continue;
        const boxes = await p.locator('.ledger.stacks').evaluateAll((els) => els.filter((b) => b.scrollWidth > b.clientWidth).map((b) => `${b.getAttribute('aria-label')} ${b.scrollWidth} > ${b.clientWidth}`));
        for (const b of boxes) found.push(`${label} [${language}, ${width}px ${new URL(p.url()).pathname}] reflow: the table ${b}`);
      }
      // The language a screen reader reads the page in (WCAG 3.1.1): axe only checks that there is one.
      const lang = await p.locator('html').getAttribute('lang');
      if (lang !== pageLanguage) found.push(`${label} [${language}] lang: the page says ${lang}, its words are ${pageLanguage}`);
      // Focus order (WCAG 2.4.3): one element takes the focus on load, and a refused form puts it on its first refused
      // field in the page's order.
      const focus = await p.evaluate(() => {
        const invalid = document.querySelector('[aria-invalid=true]');
        // A refused field says why to a screen reader as well (WCAG 3.3.1): described by a message that is on the page.
        const unexplained = [...document.querySelectorAll('[aria-invalid=true]')]
          .filter((e) => !(e.getAttribute('aria-describedby') ?? '').split(/\s+/).some((id) => id && document.getElementById(id)?.matches('.field-error, .error')))
          .map((e) => e.id || e.tagName.toLowerCase());
        return {
          unexplained,
          autofocus: [...document.querySelectorAll('[autofocus]')].map((e) => e.id || e.tagName.toLowerCase()),
          active: document.activeElement?.id || document.activeElement?.tagName.toLowerCase(),
          firstInvalid: invalid ? invalid.id || invalid.tagName.toLowerCase() : null,
          onFirstInvalid: invalid ? invalid.contains(document.activeElement) : true,
        };
      });
      if (focus.autofocus.length > 1) found.push(`${label} [${language}] focus: ${focus.autofocus.length} elements ask for it (${focus.autofocus.join(', ')})`);
      if (focus.unexplained.length) found.push(`${label} [${language}] errors: ${focus.unexplained.join(', ')} refused without its message`);
      if (!focus.onFirstInvalid) found.push(`${label} [${language}] focus: on ${focus.active}, not on the first refused field ${focus.firstInvalid}`);
    };
    return { p, audit, found };
  }

  function expectNone(found: string[]): void {
    expect(found, `\n${found.join('\n')}\n`).to.deep.equal([]);
  }

  /** Clicks the submit button of the form posting to `action` (the page's words differ by language, its forms do not). */
  async function send(p: Page, action: string): Promise<void> {
    await Promise.all([p.waitForEvent('load'), p.locator(`form[action="${action}"] button[type=submit]`).first().click()]);
  }

  async function signIn(p: Page, card: { cardNumber: string; password: string }): Promise<void> {
    await p.goto(`${ts.url}/card/signin`);
    await p.locator('#card_number').fill(card.cardNumber);
    await p.locator('#password').fill(card.password);
    await send(p, '/card/signin');
    await p.waitForURL(`${ts.url}/card/account`);
  }

  /** Sets up an authenticator app on the holder's pages (the holder signed in), auditing its pages if asked. */
  async function enrolAuthenticator(p: Page, audit?: (label: string) => Promise<void>): Promise<void> {
    await p.goto(`${ts.url}/card/security`);
    await audit?.('second factor');
    await send(p, '/card/security/totp');
    const totp = new TOTP({ secret: Secret.fromBase32(((await p.locator('#totp-secret').textContent()) ?? '').trim()), digits: 6, period: 30 });
    await audit?.('authenticator set-up');
    await p.locator('#code').fill('12');
    await send(p, '/card/security/totp/confirm');
    await audit?.('authenticator set-up, refused code');
    await p.locator('#code').fill(totp.generate());
    await send(p, '/card/security/totp/confirm');
  }

  for (const language of LANGUAGES) {
    describe(`in ${language === 'en' ? 'English' : 'Korean'}`, () => {
      it('the application form, refused and accepted, and its two results', async function () {
        this.timeout(60_000);
        const { p, audit, found } = await open(language);
        await p.goto(`${ts.url}/apply`);
        await audit('apply');
        await send(p, '/apply');
        await audit('apply, every field refused');

        const fill = async (name: string) => {
          await p.locator('#legal_name').fill(name);
          await p.locator('#birthdate').fill('1988-11-02');
          await p.locator('#email').fill(uniqueEmail('a11y'));
          await p.locator('#mobile').fill(uniqueMobile());
          await p.locator('#password').fill(GOOD_PASSWORD);
          await p.locator('#password_confirm').fill(GOOD_PASSWORD);
          await p.locator('#accept_terms').check();
          await send(p, '/apply');
        };
        await fill(uniqueName('Choi'));
        await p.locator('#card-number').waitFor();
        await audit('apply, card issued');
        await p.goto(`${ts.url}/apply`);
        await fill('Jo Reviewson');
        await p.locator('#pending-review').waitFor();
        await audit('apply, sent to review');
        expectNone(found);
      });

      it('the card pages without a sign-in (lost, reissue, password, reset) and the error pages', async function () {
        this.timeout(60_000);
        const { p, audit, found } = await open(language);
        const holder = await issueByApplication(ts, { legal_name: uniqueName('Lee') });

        for (const [path, label] of [['/card/lost', 'report lost'], ['/card/lost/code', 'block with a code'], ['/card/password', 'change password']] as const) {
          await p.goto(`${ts.url}${path}`);
          await audit(label);
          await send(p, path);
          await audit(`${label}, refused`);
        }

        // The code flows: ask, the page taking the code, it refused; and the reissue's result.
        for (const [base, label] of [['/card/password/reset', 'reset password'], ['/card/reissue', 'reissue']] as const) {
          await p.goto(`${ts.url}${base}`);
          await audit(label);
          await send(p, `${base}/code`);
          await audit(`${label}, refused`);
          await p.locator('#card_number').fill(holder.cardNumber);
          await send(p, `${base}/code`);
          await audit(`${label}, code sent`);
          await send(p, `${base}/confirm`);
          await audit(`${label}, code refused`);
        }
        await p.locator('#code').fill(await latestCode(ts, holder.accountId, 'reissue_code'));
        await send(p, '/card/reissue/confirm');
        await p.locator('#card-password').waitFor();
        await audit('reissue, the new card');

        // The new number's password changed: the page saying it is done.
        const number = ((await p.locator('#card-number').textContent()) ?? '').replace(/\s/g, '');
        const password = (await p.locator('#card-password').textContent()) ?? '';
        await p.goto(`${ts.url}/card/password`);
        await p.locator('#card_number').fill(number);
        await p.locator('#password').fill(password);
        await p.locator('#new_password').fill(GOOD_PASSWORD);
        await p.locator('#new_password_confirm').fill(GOOD_PASSWORD);
        await send(p, '/card/password');
        await audit('password changed');

        // A day's reset codes spent for the number (a card's or not, it reads the same): 429, try later or contact cybercard.
        await ts.db('throttles')
          .where(codeRequestKey('password_reset', cardThrottleKey(ts.config.secrets.cardHmacKey, holder.cardNumber)!))
          .update({ count: ts.config.oneTimeCodes.maxPerDay });
        await p.goto(`${ts.url}/card/password/reset`);
        await p.locator('#card_number').fill(holder.cardNumber);
        await send(p, '/card/password/reset/code');
        expect(await p.locator('.error, [role=alert]').first().textContent()).to.match(/too many times today|너무 많았습니다/);
        await audit('reset password, codes spent for the day');

        await p.goto(`${ts.url}/card/no-such-page`);
        await audit('not found');
        await p.goto(`${ts.url}/card/lost`);
        await p.locator('input[name=csrf]').evaluate((i: HTMLInputElement) => (i.value = 'a token from a page long closed'));
        await send(p, '/card/lost');
        await audit('a form expired');
        await p.goto(`${ts.url}/interaction/no-such-interaction`);
        await audit('an interaction that is gone');
        expectNone(found);
      });

      it("the holder's own pages, each form also refused, up to the card closed", async function () {
        this.timeout(180_000);
        const { p, audit, found } = await open(language);
        const guardian = await issueByApplication(ts, { legal_name: uniqueName('Seo') });
        await ts.db('accounts').where({ id: guardian.accountId }).update({ credit_limit: 100_000, statement_day: statementDayToday(ts.config.billing.timeZone) });
        const childApp = application({ legal_name: uniqueName('Seo'), birthdate: birthdateForAge(16), guardian_card_number: guardian.cardNumber, guardian_password: guardian.password });
        const child = await postApplication(ts, childApp);
        expect(child.status, JSON.stringify(child.body)).to.equal(201);
        const childAccountId = String((await ts.db('cards').where({ id: child.body.card_id }).first()).account_id);
        const site = await registerTestSite(ts, { name: 'Webtoon Corner' } as never);
        const card: TestCard = { accountId: guardian.accountId, cardId: guardian.cardId, number: guardian.cardNumber, password: guardian.password };
        // A statement with a charge and a payment received, and a hold still open: every table of the account page.
        const charged = await approveFor(ts, card, site, 5_000, 'Season pass');
        await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, actor: 'test' }));
        await repay(ledgerOf(ts), { accountId: guardian.accountId, amount: 2_000, currency: 'KRW', source: 'operator', actor: 'test' });
        await billingRun(ledgerOf(ts), { cutoff: new Date() });
        await approveFor(ts, card, site, 3_000, 'Episode 12');

        await p.goto(`${ts.url}/card/signin`);
        await audit('sign-in');
        await p.locator('#card_number').fill(guardian.cardNumber);
        await p.locator('#password').fill('not the password');
        await send(p, '/card/signin');
        await audit('sign-in, wrong password');
        await signIn(p, guardian);
        await audit('account');
        await p.locator('#statements a').first().click();
        await p.locator('#statement').waitFor();
        await audit('account, a statement');
        for (const [path, label] of [['/card/activity', 'activity'], ['/card/wards', "children's cards"]] as const) {
          await p.goto(`${ts.url}${path}`);
          await audit(label);
        }
        await send(p, `/card/wards/${childAccountId}/limit`);
        await audit("children's cards, refused");

        await p.goto(`${ts.url}/card/controls`);
        await audit('spending controls');
        await p.locator('#max_per_approval').fill('a lot');
        await send(p, '/card/controls');
        await audit('spending controls, refused');
        await p.locator('#max_per_approval').fill('5000');
        await send(p, '/card/controls');
        await p.locator('#max_per_approval').fill('');
        await send(p, '/card/controls');
        await p.locator('#password-error').waitFor();
        await audit('spending controls, a loosening without the password');
        await p.locator('#password').fill(guardian.password);
        await send(p, '/card/controls');
        await p.locator('#notice').waitFor();

        await enrolAuthenticator(p, audit);

        await p.goto(`${ts.url}/card/contacts`);
        await audit('contact details');
        await send(p, '/card/contacts');
        await audit('contact details, refused');
        await p.locator('#email').fill(uniqueEmail('a11y-contacts'));
        await p.locator('#password').fill(guardian.password);
        await send(p, '/card/contacts');
        await audit('contact details, codes sent');
        await send(p, '/card/contacts/confirm');
        await audit('contact details, codes refused');

        await p.goto(`${ts.url}/card/statement-day`);
        await audit('statement day');
        await p.locator('#statement_day').evaluate((s: HTMLSelectElement) => {
          // A day the list does not offer, as a stale page or a hand-made post sends it: the form's error state.
          s.options[0]!.value = '31';
          s.selectedIndex = 0;
        });
        await send(p, '/card/statement-day');
        await audit('statement day, refused');

        await p.goto(`${ts.url}/card/data`);
        await audit('a copy of the data');
        await send(p, '/card/data');
        await audit('a copy of the data, refused');
        await p.locator('#password').fill(guardian.password);
        await send(p, '/card/data');
        await p.locator('form[action="/card/data/file"]').waitFor();
        await audit('a copy of the data, ready to save');
        // The file saved, the page come back to says so, with no button (a download loads no page: no send()).
        await Promise.all([p.waitForEvent('download'), p.locator('form[action="/card/data/file"] button[type=submit]').click()]);
        await p.reload();
        expect(await p.locator('form[action="/card/data/file"]').count()).to.equal(0);
        await audit('a copy of the data, saved');

        await p.goto(`${ts.url}/card/disputes`);
        await audit('report a payment');
        await send(p, '/card/disputes');
        await audit('report a payment, refused');

        await p.goto(`${ts.url}/card/close`);
        await audit('close the card');
        await send(p, '/card/close');
        await audit('close the card, refused');
        await p.locator('#confirm').check();
        await p.locator('#password').fill(guardian.password);
        await send(p, '/card/close');
        await audit('card closed');

        // Signed in again with the closed card: what is owed, and the 403 of a page for open cards only.
        await signIn(p, guardian);
        await audit('account, card closed');
        await p.goto(`${ts.url}/card/controls`);
        await audit('spending controls, card closed');
        expectNone(found);
      });

      it("a guardian whose child's statement is overdue: the account page, the children's cards and the refused payment", async function () {
        this.timeout(180_000);
        // A card manager of its own: making a statement overdue takes a billing run dated a month back, which would
        // bill every other test's cards in the run's shared database.
        const ledger = await startLedgerServer();
        try {
          const { p, audit, found } = await open(language);
          const site = await registerTestSite(ledger, { name: 'Film Corner' } as never);
          const { guardian } = await familyWithOverdueChild(ledger, site);
          await p.goto(`${ledger.url}/card/signin`);
          await p.locator('#card_number').fill(guardian.number);
          await p.locator('#password').fill(guardian.password);
          await Promise.all([p.waitForURL(`${ledger.url}/card/account`), p.locator('form[action="/card/signin"] button[type=submit]').click()]);
          await p.locator('#overdue').waitFor();
          await audit("account, a child's statement overdue");
          await p.goto(`${ledger.url}/card/wards`);
          await p.locator('[id^="ward-overdue-"]').waitFor();
          await audit("children's cards, one overdue");
          const req = await payRequest(await siteClient(ledger, site), site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Film' }]);
          await p.goto(req.url.href);
          await p.locator('#card_number').fill(guardian.number);
          await p.locator('#password').fill(guardian.password);
          await p.locator('form[action$="/login"] button[type=submit]').click();
          // The approval page says so before Approve, and is read first.
          await p.locator('#overdue').waitFor();
          await audit("payment approval, a child's statement overdue");
          expect(await p.evaluate(() => document.activeElement?.id)).to.equal('overdue');
          // Refused as the payment is approved (under the account's lock), as every overdue statement is.
          await p.locator('form[action$="/confirm"] button[type=submit]').click();
          await p.locator('#return').waitFor();
          await audit("payment refused, a child's statement overdue");
          expectNone(found);
        } finally {
          await ledger.stop();
        }
      });

      it("a minor whose guardian's statement is overdue: the account page and the refused payment", async function () {
        this.timeout(180_000);
        const ledger = await startLedgerServer();
        try {
          const { p, audit, found } = await open(language);
          const site = await registerTestSite(ledger, { name: 'Film Corner' } as never);
          const family = await familyOf(ledger);
          await makeGuardianOverdue(ledger, site, family);
          const { minor } = family;
          await p.goto(`${ledger.url}/card/signin`);
          await p.locator('#card_number').fill(minor.number);
          await p.locator('#password').fill(minor.password);
          await Promise.all([p.waitForURL(`${ledger.url}/card/account`), p.locator('form[action="/card/signin"] button[type=submit]').click()]);
          await p.locator('#overdue').waitFor();
          await audit("account, the guardian's statement overdue");
          const req = await payRequest(await siteClient(ledger, site), site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Film' }]);
          await p.goto(req.url.href);
          await p.locator('#card_number').fill(minor.number);
          await p.locator('#password').fill(minor.password);
          await p.locator('form[action$="/login"] button[type=submit]').click();
          await p.locator('#overdue').waitFor();
          await audit("payment approval, the guardian's statement overdue");
          expect(await p.evaluate(() => document.activeElement?.id)).to.equal('overdue');
          await p.locator('form[action$="/confirm"] button[type=submit]').click();
          await p.locator('#return').waitFor();
          await audit("payment refused, the guardian's statement overdue");
          expectNone(found);
        } finally {
          await ledger.stop();
        }
      });

      it('a holder whose credit balance was sent back: the account page lists it', async function () {
        this.timeout(180_000);
        const ledger = await startLedgerServer();
        try {
          const { p, audit, found } = await open(language);
          const site = await registerTestSite(ledger, { name: 'Film Corner' } as never);
          const card = await cardWithLimit(ledger, 100_000);
          const a = await approveFor(ledger, card, site, 1_000);
          await inTransaction(ledger.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
          expect((await operator(ledger, 'POST', '/admin/api/ledger/repayments', { card_id: card.cardId, amount: 5_000 })).status).to.equal(201);
          const out = await operator(ledger, 'POST', '/admin/api/ledger/payouts', { card_id: card.cardId, amount: 3_000, currency: 'KRW', bank_reference: 'OUT-A11Y-1', reason: 'overpaid' });
          expect(out.status, out.text).to.equal(201);
          await p.goto(`${ledger.url}/card/signin`);
          await p.locator('#card_number').fill(card.number);
          await p.locator('#password').fill(card.password);
          await Promise.all([p.waitForURL(`${ledger.url}/card/account`), p.locator('form[action="/card/signin"] button[type=submit]').click()]);
          await p.locator('#payouts').waitFor();
          await audit('account, a credit balance sent back');
          expectNone(found);
        } finally {
          await ledger.stop();
        }
      });

      it('the hosted log-in, consent, payment approval, refusal and sign-out pages of a real OIDC flow', async function () {
        this.timeout(180_000);
        const { p, audit, found } = await open(language);
        const payer = await issueByApplication(ts, { legal_name: uniqueName('Park') });
        await ts.db('accounts').where({ id: payer.accountId }).update({ credit_limit: 100_000 });

        // Log-in and consent, from the demo site.
        await p.goto(`${demo.url}/login`);
        await p.locator('form[action$="/login"]').waitFor();
        await audit('log-in');
        await p.locator('#card_number').fill(payer.cardNumber);
        await p.locator('#password').fill('not the password');
        await p.locator('form[action$="/login"] button[type=submit]').click();
        await p.locator('#form-error').waitFor();
        await audit('log-in, wrong password');
        await p.locator('#card_number').fill(payer.cardNumber);
        await p.locator('#password').fill(payer.password);
        await p.locator('form[action$="/login"] button[type=submit]').click();
        await p.locator('form[action$="/confirm"]').waitFor();
        await audit('consent');
        await p.locator('form[action$="/confirm"] button[type=submit]').click();
        await p.waitForURL(`${demo.url}/me`);

        // A payment that needs the authenticator code: log-in, approval, a wrong code, and the denial.
        await signIn(p, payer);
        await enrolAuthenticator(p);
        await p.goto(`${demo.url}/items/album/buy`);
        await p.locator('form[action$="/login"]').waitFor();
        await audit('payment log-in');
        await p.locator('#card_number').fill(payer.cardNumber);
        await p.locator('#password').fill(payer.password);
        await p.locator('form[action$="/login"] button[type=submit]').click();
        await p.locator('#totp').waitFor();
        await audit('payment approval');
        await p.locator('#totp').fill('12345');
        await p.locator('form[action$="/confirm"] button[type=submit]').click();
        await p.locator('#totp-error').waitFor();
        await audit('payment approval, wrong code');
        await p.locator('form[action$="/abort"] button[type=submit]').click();
        await p.waitForURL((u) => u.origin === demo.url);

        // A payment approved, and its approval page reached again with Back (chromium posts the log-in form again).
        await p.goto(`${demo.url}/items/episode-1/buy`);
        await p.locator('#card_number').fill(payer.cardNumber);
        await p.locator('#password').fill(payer.password);
        await p.locator('form[action$="/login"] button[type=submit]').click();
        await p.locator('form[action$="/confirm"] button[type=submit]').click();
        await p.waitForURL(`${demo.url}/items/episode-1`);
        const resubmit = p.waitForEvent('framenavigated', { predicate: (f) => f === p.mainFrame() && f.url().startsWith('chrome-error:') });
        await p.goBack().catch(() => undefined); // net::ERR_CACHE_MISS: the "Confirm Form Resubmission" page
        await resubmit;
        await p.waitForLoadState();
        await p.reload();
        await p.locator('#finished').waitFor();
        await audit('payment complete, reached again');

        // A payment over the credit left, and one refused outright (a minor at the 19+ section).
        await ts.db('accounts').where({ id: payer.accountId }).update({ credit_limit: 1_000 });
        await p.goto(`${demo.url}/items/episode-1/buy`);
        await p.locator('#card_number').fill(payer.cardNumber);
        await p.locator('#password').fill(payer.password);
        await p.locator('form[action$="/login"] button[type=submit]').click();
        await p.locator('#over-limit').waitFor();
        await audit('payment approval, over the credit left');
        // Read first, before any field: the code asked for below would approve nothing.
        expect(await p.evaluate(() => document.activeElement?.id)).to.equal('over-limit');
        await p.locator('form[action$="/abort"] button[type=submit]').click();
        await p.waitForURL((u) => u.origin === demo.url);

        const minor = await cardWithLimit(ts, 100_000, { birthdate: birthdateForAge(17) });
        await p.goto(`${demo.url}/items/late-night/buy`);
        await p.locator('#card_number').fill(minor.number);
        await p.locator('#password').fill(minor.password);
        await p.locator('form[action$="/login"] button[type=submit]').click();
        await p.locator('#reason').waitFor();
        await audit('payment refused');

        // Sign-out: the question, and the answer when no site waits for the browser.
        await p.goto(`${ts.url}/session/end`);
        await audit('sign out?');
        await p.locator('button[name=logout]').click();
        await p.waitForLoadState();
        await audit('signed out');
        expectNone(found);
      });
    });
  }

  it('the operator console, each form also refused (in English only, and saying so to a browser asking for Korean)', async function () {
    this.timeout(180_000);
    // English for a browser asking for Korean too: the console's words are for the operator's staff, in English only.
    const { p, audit, found } = await open('ko', 'en');
    const { status, body } = await postApplication(ts, application({ legal_name: 'Jo Reviewson' }));
    expect(status, JSON.stringify(body)).to.equal(202);
    // A holder of the same name and date of birth since: the queue lists what a check finds now.
    await issueTestCard(ts, String(application().birthdate), 'Jo Reviewson');
    const site = await registerTestSite(ts, { name: 'Film Corner' } as never);
    const card = await cardWithLimit(ts, 100_000, { email: uniqueEmail('a11y-dispute') });
    const a = await approveFor(ts, card, site, 12_000, 'Movie night');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, amount: 12_000, actor: 'test' }));
    const d = await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo: a.approvalNo, reason: 'not_mine', details: 'Never watched it', actor: `card:${card.cardId}` },
    );

    await p.goto(`${ts.url}/admin/signin`);
    await audit('console sign-in');
    await p.locator('#token').fill('not the token');
    await send(p, '/admin/signin');
    await audit('console sign-in, wrong token');
    await p.locator('#token').fill(operatorToken);
    await send(p, '/admin/signin');

    await p.goto(`${ts.url}/admin/applications`);
    expect(await p.locator('ul.findings li').count()).to.be.greaterThan(0);
    await audit('review queue');
    await p.locator(`form[action$="/reject"] button[type=submit]`).first().click();
    await p.waitForLoadState();
    await audit('review queue, refused');

    await p.goto(`${ts.url}/admin/disputes`);
    await audit('disputes');
    await send(p, `/admin/disputes/${d.id}/reject`);
    await audit('disputes, refused');

    await p.goto(`${ts.url}/admin/cards`);
    await audit('cards');
    await p.locator('#number').fill('1234');
    await send(p, '/admin/cards/search');
    await audit('cards, refused');
    await p.locator('#number').fill(card.number);
    await send(p, '/admin/cards/search');
    await p.locator('#holder').waitFor();
    await audit("cards, a holder's cards");
    await send(p, `/admin/cards/${card.cardId}/block`);
    await audit("cards, a holder's cards, block refused");
    // The account's money forms: a repayment refused (no amount), then recorded, which leaves a credit balance and so
    // the payout form, refused in turn (more than the credit).
    await send(p, `/admin/cards/${card.cardId}/repayment`);
    await p.locator('#repayment-amount-error').waitFor();
    await audit("cards, a holder's cards, repayment refused");
    await p.locator('#repayment-amount').fill('30,000');
    await send(p, `/admin/cards/${card.cardId}/repayment`);
    await p.locator('#notice').waitFor();
    await p.locator('#payout').waitFor();
    await audit("cards, a holder's cards, repayment recorded, payout offered");
    await p.locator('#payout-amount').fill('30,001');
    await p.locator('#payout-bank-reference').fill('OUT-A11Y-1');
    await p.locator('#payout-reason').fill('holder asked');
    await send(p, `/admin/cards/${card.cardId}/payout`);
    await p.locator('#payout-amount-error').waitFor();
    await audit("cards, a holder's cards, payout refused");
    // The holder's data form, its reason refused (a bidi override): the page again, nothing downloaded.
    await p.goto(`${ts.url}/admin/cards/${card.cardId}/export?reason=${encodeURIComponent('DSR-\u202E1')}`);
    await p.locator('#export-reason[aria-invalid="true"]').waitFor();
    await audit("cards, a holder's cards, data export reason refused");

    await p.goto(`${ts.url}/admin/sites`);
    await audit('member sites');
    await p.goto(`${ts.url}/admin/sites/${site.clientId}`);
    await audit('a member site');
    await send(p, `/admin/sites/${site.clientId}/par`);
    await p.locator('#notice').waitFor();
    await audit('a member site, PAR required');
    await send(p, `/admin/sites/${site.clientId}/suspend`);
    await audit('a member site, refused');

    // A Logout Token the site never took, given up: the deliveries page lists it with its "Send again" form.
    const logout = { id: await queueLogout(ts.db, { clientId: site.clientId, accountId: card.accountId, sid: null, reason: 'card blocked' }) };
    await markAttemptFailed(ts.db, 'backchannel_logouts', logout.id, 'the site answered 500', 1);
    await p.goto(`${ts.url}/admin/deliveries`);
    await audit('deliveries');
    await send(p, `/admin/deliveries/logout/${logout.id}/retry`);
    await audit('deliveries, refused');

    await p.goto(`${ts.url}/admin/settlement`);
    await audit('settlement');
    await p.goto(`${ts.url}/admin/settlement?month=someday`);
    await audit('settlement, refused');
    await p.goto(`${ts.url}/admin/books`);
    await audit('books');
    await send(p, '/admin/books/check');
    await audit('books, checked');
    expectNone(found);
  });

  it("the operator console as a viewer sees it: read-only pages, and a form sent anyway refused", async function () {
    this.timeout(60_000);
    const { p, audit, found } = await open('en');
    const card = await cardWithLimit(ts, 100_000, { email: uniqueEmail('a11y-viewer') });
    await p.goto(`${ts.url}/admin/signin`);
    await p.locator('#token').fill(viewerToken);
    await send(p, '/admin/signin');
    await p.goto(`${ts.url}/admin/cards/${card.cardId}`);
    await p.locator('#read-only').waitFor();
    await audit("cards, a holder's cards, read-only");
    // A form from before the token became a viewer's, sent now: the console's refusal page.
    await Promise.all([
      p.waitForEvent('load'),
      p.evaluate((action) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = action;
        document.body.append(form);
        form.submit();
      }, `/admin/cards/${card.cardId}/block`),
    ]);
    expect(await p.locator('h1').textContent()).to.equal('Not allowed');
    await audit('a change refused to a viewer');
    expectNone(found);
  });
});
