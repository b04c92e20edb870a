import { expect } from 'chai';
import * as client from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { setControls } from '../../src/approvals/set-spending-controls.ts';
import { listAudit } from '../../src/db/audit-log.ts';
import { listOutboxForAccount } from '../../src/db/outbox.ts';
import { suspendSite } from '../../src/member-sites/suspend.ts';
import { reissue } from '../../src/cards/reissue.ts';
import { reportLost } from '../../src/cards/report-lost.ts';
import { holderActivity } from '../../src/cards/holder-activity.ts';
import { confirmEnrolment } from '../../src/second-factor/confirm-enrolment.ts';
import { startEnrolment } from '../../src/second-factor/start-enrolment.ts';
import { Agent, csrfFrom, location, startInteraction, runLogin, type FlowResult } from '../helpers/agent.ts';
import { issueTestCard, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { announced } from '../helpers/directory.ts';
import { unescapeHtml } from '../helpers/html.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const STEP_UP_ABOVE = 20_000;

describe('defences against surreptitious use, and their distinct outcomes', () => {
  let ts: TestServer;
  let site: TestSite;
  let config: client.Configuration;

  before(async () => {
    ts = await startCardManager({
      velocity: { approvalsPerHour: 3, approvalsPerDay: 5, amountPerDay: 100_000 },
      stepUp: { above: STEP_UP_ABOVE },
    });
    site = await registerTestSite(ts);
    config = await siteClient(ts, site);
  });
  after(() => ts.stop());

  async function holder(limit = 1_000_000, birthdate = '1990-01-01'): Promise<TestCard> {
    const card = await issueTestCard(ts, birthdate);
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: limit, email: `h-${card.cardId.slice(0, 8)}@example.test` });
    return card;
  }

  async function payUrl(amount: number, s = site, cfg = config, extra: Record<string, unknown> = {}) {
    return (await payRequest(cfg, s, [{ type: 'payment', amount, currency: 'KRW', description: 'Item', ...extra }])).url;
  }

  const pay = async (card: TestCard, amount: number, s = site, cfg = config, extra: Record<string, unknown> = {}) =>
    runLogin(new Agent(ts.url), await payUrl(amount, s, cfg, extra), card);

  /** A refusal page: its status, its text, and what the member site receives once the holder goes back. */
  async function refusal(result: FlowResult, agent?: Agent) {
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') throw new Error('no page');
    const a = agent ?? new Agent(ts.url);
    return { status: result.status, html: result.html, a };
  }

  async function siteGets(agent: Agent, html: string): Promise<URL> {
    const link = /href="([^"]+)" id="return"/.exec(html);
    if (link) return location(await agent.get(new URL(link[1]!.replace(/&amp;/g, '&'), ts.url)), ts.url);
    // A stop page before consent: its button posts abort, answered with the redirect to the site.
    const uid = /\/interaction\/([^/]+)\/abort/.exec(html)![1]!;
    return location(await agent.post(`/interaction/${uid}/abort`, { csrf: csrfFrom(html) }), ts.url);
  }

  const approvals = async (card: TestCard) => Number((await ts.db('approvals').where({ card_id: card.cardId }).count({ n: '*' }).first())!.n);

  async function expectRefused(card: TestCard, amount: number, text: string, code: string, s = site, cfg = config) {
    const agent = new Agent(ts.url);
    const before = await approvals(card);
    const result = await runLogin(agent, await payUrl(amount, s, cfg), card);
    const { status, html } = await refusal(result);
    expect(status).to.equal(403);
    expect(html).to.include(text);
    const back = await siteGets(agent, html);
    expect(back.searchParams.get('error')).to.equal('access_denied');
    expect(back.searchParams.get('error_description')).to.match(new RegExp(`^${code}: `));
    expect(back.searchParams.get('code')).to.equal(null);
    expect(await approvals(card)).to.equal(before);
    return back.searchParams.get('error_description')!;
  }

  describe('velocity limits per card', () => {
    it('refuses the payment past the hourly count, then the daily count', async () => {
      const card = await holder();
      for (let i = 0; i < 3; i++) expect((await pay(card, 100)).kind).to.equal('redirect');
      await expectRefused(card, 100, 'payments in the last hour', 'velocity_exceeded');
      // An hour later (moved in the database): two more fit the day, the sixth does not.
      await ts.db('approvals').where({ card_id: card.cardId }).update({ created_at: ts.db.raw("now() - interval '2 hours'") });
      for (let i = 0; i < 2; i++) expect((await pay(card, 100)).kind).to.equal('redirect');
      await expectRefused(card, 100, 'payments in the last 24 hours', 'velocity_exceeded');
      const audit = await listAudit(ts.db, 'account', card.accountId);
      expect(audit.filter((a) => a.action === 'access.refused').map((a) => a.details?.refusal)).to.deep.equal(['velocity_exceeded', 'velocity_exceeded']);
    });

    it('carries the counts over to a reissued card: a new number does not start the hour afresh', async () => {
      const card = await holder();
      for (let i = 0; i < 3; i++) expect((await pay(card, 100)).kind).to.equal('redirect');
      const issued = await reissue(ts.cm.cards, { cardId: card.cardId, actor: 'test', reason: 'replaced in the test' });
      await ts.db('cards').where({ id: issued.cardId }).update({ status: 'active' });
      const fresh = { ...card, cardId: issued.cardId, number: issued.cardNumber, password: issued.password };
      await expectRefused(fresh, 100, 'payments in the last hour', 'velocity_exceeded');
    });

    it('refuses the payment that would pass the amount per day', async () => {
      const card = await holder();
      expect((await pay(card, 19_000)).kind).to.equal('redirect');
      await ts.db('approvals').where({ card_id: card.cardId }).update({ amount: 90_000 });
      await expectRefused(card, 15_000, 'past its limit of 100,000 KRW in 24 hours', 'velocity_exceeded');
      expect((await pay(card, 10_000)).kind, 'exactly up to the amount per day [boundary]').to.equal('redirect');
      await expectRefused(card, 1, 'past its limit of 100,000 KRW in 24 hours', 'velocity_exceeded');
    });
  });

  describe("the holder's spending controls", () => {
    const controls = (card: TestCard, c: Partial<Parameters<typeof setControls>[2]>) =>
      setControls(ts.db, { accountId: card.accountId, actor: 'test', reauthenticated: true }, { maxPerApproval: null, monthlyCap: null, blockedSites: [], adultContentOff: false, ...c });

    it('refuses a payment above the maximum per approval, without telling the site the figure', async () => {
      const card = await holder();
      await controls(card, { maxPerApproval: 5_000 });
      expect((await pay(card, 5_000)).kind).to.equal('redirect');
      const description = await expectRefused(card, 5_001, 'above the maximum of 5,000 KRW per payment you set', 'spending_control');
      expect(description).to.not.include('5,000');
    });

    it('refuses the payment that would pass the monthly cap', async () => {
      const card = await holder();
      await controls(card, { monthlyCap: 1_500 });
      expect((await pay(card, 1_000)).kind).to.equal('redirect');
      await expectRefused(card, 600, 'past the monthly cap of 1,500 KRW you set (1,000 KRW spent this month)', 'spending_control');
      expect((await pay(card, 500)).kind, 'exactly up to the cap [boundary]').to.equal('redirect');
      await expectRefused(card, 1, 'past the monthly cap of 1,500 KRW you set (1,500 KRW spent this month)', 'spending_control');
    });

    it("counts the cap's month in the billing time zone, not UTC's", async () => {
      const card = await holder();
      await controls(card, { monthlyCap: 1_500 });
      expect((await pay(card, 1_000)).kind).to.equal('redirect');
      const zone = ts.config.billing.timeZone;
      expect(zone, 'a zone whose month starts at another instant than UTC').to.not.equal('UTC');
      const b = (
        await ts.db.raw(
          "SELECT date_trunc('month', now() AT TIME ZONE ?) AT TIME ZONE ? AS zone_start, date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS utc_start",
          [zone, zone],
        )
      ).rows[0] as { zone_start: Date; utc_start: Date };
      const zoneStart = new Date(b.zone_start).getTime();
      const utcStart = new Date(b.utc_start).getTime();
      // Move the payment to an instant of this month in one calendar and of last month in the other.
      const inZoneMonthOnly = zoneStart < utcStart;
      const at = new Date(inZoneMonthOnly ? zoneStart + 60_000 : zoneStart - 60_000);
      await ts.db('approvals').where({ account_id: card.accountId }).update({ created_at: at });
      if (inZoneMonthOnly) await expectRefused(card, 600, '(1,000 KRW spent this month)', 'spending_control');
      else expect((await pay(card, 600)).kind, 'last month in the billing zone').to.equal('redirect');
    });

    it('keeps the holder out of a site they blocked, and only that site', async () => {
      const card = await holder();
      const other = await registerTestSite(ts);
      const otherCfg = await siteClient(ts, other);
      await controls(card, { blockedSites: [other.clientId] });
      await expectRefused(card, 100, 'You have blocked Site', 'spending_control', other, otherCfg);
      expect((await pay(card, 100)).kind, 'other sites still work').to.equal('redirect');
    });

    it('keeps an adult who turned adult content off out of 19+ content, and lets them in once it is on', async () => {
      const card = await holder();
      const adultSite = await registerTestSite(ts, { contentRating: 19 });
      const adultCfg = await siteClient(ts, adultSite);
      await controls(card, { adultContentOff: true });
      await expectRefused(card, 100, 'You turned adult content off on your card', 'spending_control', adultSite, adultCfg);
      expect((await pay(card, 100, site, config, { rating: '15' })).kind, '15+ content is not adult').to.equal('redirect');
      await controls(card, { adultContentOff: false });
      expect((await pay(card, 100, adultSite, adultCfg)).kind).to.equal('redirect');
    });
  });

  describe('step-up above the threshold', () => {
    async function enrolled(): Promise<{ card: TestCard; totp: TOTP }> {
      const card = await holder();
      const deps = { db: ts.db, sealKey: (await import('../../src/lib/sealed.ts')).deriveKey(ts.config.secrets.cardHmacKey, 'totp-secret-seal-v1'), issuerLabel: 'x' };
      const e = await startEnrolment(deps, { accountId: card.accountId, last4: '0000' });
      const totp = new TOTP({ secret: Secret.fromBase32(e.base32), digits: 6, period: 30, algorithm: 'SHA1' });
      await confirmEnrolment(deps, { accountId: card.accountId, last4: '0000', token: e.token, code: totp.generate() });
      return { card, totp };
    }

    /** Logs in to a large payment and stops on the approval page. */
    async function onApprovePage(card: TestCard, amount: number) {
      const agent = new Agent(ts.url);
      const { path: loginPath, csrf: loginCsrf } = await startInteraction(agent, await payUrl(amount));
      // The answer to the login form is the approval page of the same interaction.
      const afterLogin = await agent.post(`${loginPath}/login`, { csrf: loginCsrf, card_number: card.number, password: card.password });
      expect(afterLogin.status).to.equal(200);
      const html = await afterLogin.text();
      return { agent, path: loginPath, csrf: csrfFrom(html), html };
    }

    it('asks for the code, refuses a wrong one, approves with the right one and refuses it replayed', async () => {
      const { card, totp } = await enrolled();
      const amount = STEP_UP_ABOVE + 1;

      const page = await onApprovePage(card, amount);
      expect(page.html).to.include('name="totp"');
      const missing = await page.agent.post(`${page.path}/confirm`, { csrf: page.csrf });
      expect(missing.status).to.equal(400);
      expect(await missing.text()).to.include('Enter the 6-digit code from your authenticator app.');

      const good = totp.generate({ timestamp: Date.now() + 30_000 }); // the next step: later than the one enrolment used
      const wrong = good === '000000' ? '111111' : '000000';
      const refused = await page.agent.post(`${page.path}/confirm`, { csrf: page.csrf, totp: wrong });
      const html = await refused.text();
      expect(refused.status).to.equal(403);
      expect(html).to.include('The code from your authenticator app was not right, or was already used.');
      expect((await siteGets(page.agent, html)).searchParams.get('error_description')).to.match(/^step_up_failed: /);
      expect(await approvals(card)).to.equal(0);
      // The holder sees the wrong code on their activity page.
      const [latest] = (await holderActivity(ts.db, card.accountId)).items;
      const siteName = (await ts.db('member_sites').where({ client_id: site.clientId }).first()).name as string;
      expect(latest).to.include({ kind: 'wrong_second_factor', site: siteName, about: 'card', cardLast4: card.number.slice(-4) });

      const second = await onApprovePage(card, amount);
      const ok = await second.agent.post(`${second.path}/confirm`, { csrf: second.csrf, totp: good });
      expect(ok.status).to.equal(303);
      expect(await approvals(card)).to.equal(1);

      const third = await onApprovePage(card, amount);
      const replay = await third.agent.post(`${third.path}/confirm`, { csrf: third.csrf, totp: good });
      expect(replay.status).to.equal(403);
      expect(await replay.text()).to.include('was already used');
      expect(await approvals(card)).to.equal(1);
      expect(Number((await ts.db('accounts').where({ id: card.accountId }).first()).held_amount)).to.equal(amount);
    });

    it('counts wrong codes towards the card lockout even though each flow began with the right password', async () => {
      const { card, totp } = await enrolled();
      const good = totp.generate({ timestamp: Date.now() + 30_000 });
      const wrong = good === '000000' ? '111111' : '000000';
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const page = await onApprovePage(card, STEP_UP_ABOVE + 1);
        const res = await page.agent.post(`${page.path}/confirm`, { csrf: page.csrf, totp: wrong });
        outcomes.push(/<h1[^>]*>([^<]+)<\/h1>/.exec(await res.text())![1]!);
      }
      expect(outcomes.slice(0, 4).every((h) => h === 'Second factor not accepted')).to.equal(true);
      expect(outcomes[4]).to.equal('This card is locked for a while');
      const audit = await listAudit(ts.db, 'card', card.cardId);
      expect(audit.some((a) => a.action === 'card.locked')).to.equal(true);
      expect(await approvals(card)).to.equal(0);
    });

    it('says on the approval page, before the click, that a large payment needs an authenticator app the card has not set up', async () => {
      const card = await holder();
      const page = await onApprovePage(card, STEP_UP_ABOVE + 1);
      expect(unescapeHtml(page.html)).to.include(
        'Payments above 20,000 KRW need a code from an authenticator app, and this card has none set up, so this one will not be approved.',
      );
      expect(page.html).to.include('href="/card/security"');
      // A card with one set up is asked for its code instead, and a small payment says nothing of it.
      const { card: ready } = await enrolled();
      expect((await onApprovePage(ready, STEP_UP_ABOVE + 1)).html).not.to.include('has none set up');
      expect((await onApprovePage(card, STEP_UP_ABOVE)).html).not.to.include('has none set up');
    });

    it('refuses a large payment on a card without a second factor, and lets a small one through without a code', async () => {
      const card = await holder();
      await expectRefused(card, STEP_UP_ABOVE + 1, 'need a code from an authenticator app, and this card has none set up', 'step_up_required');
      expect((await pay(card, STEP_UP_ABOVE)).kind).to.equal('redirect');
    });
  });

  describe('other distinct outcomes', () => {
    it('refuses the payment of a member site suspended while the holder was on its approval page', async () => {
      const card = await holder();
      const s = await registerTestSite(ts);
      const cfg = await siteClient(ts, s);
      const agent = new Agent(ts.url);
      const { path: loginPath, csrf: loginCsrf } = await startInteraction(agent, await payUrl(100, s, cfg));
      const login = await agent.post(`${loginPath}/login`, { csrf: loginCsrf, card_number: card.number, password: card.password });
      const approvePage = await login.text();
      expect(approvePage).to.include('/confirm"');
      await announced(ts.cm.directory, `site:${s.clientId}`, () => suspendSite(ts.db, s.clientId, 'test'));
      const res = await agent.post(`${loginPath}/confirm`, { csrf: csrfFrom(approvePage) });
      const html = await res.text();
      expect(res.status).to.equal(403);
      expect(html).to.include('This member site is suspended');
      expect(html).to.include('cannot take payments at the moment');
      expect(await approvals(card)).to.equal(0);
    });

    it('tells the holder of a lost card that it is blocked, and the site card_inactive', async () => {
      const card = await holder();
      await reportLost(ts.db, { cardId: card.cardId, actor: 'test', reason: 'lost', proof: 'operator' });
      const agent = new Agent(ts.url);
      const { status, html } = await refusal(await runLogin(agent, await payUrl(100), card));
      expect(status).to.equal(403);
      expect(html).to.include('This card was reported lost and is blocked.');
      // A real link to the New card number page, made by the view: no address inside the sentence.
      expect(html).to.include('<a href="/card/reissue" id="next-step">Get a new card number</a>');
      expect(html).to.not.include('(/card/reissue)');
      expect((await siteGets(agent, html)).searchParams.get('error_description')).to.match(/^card_inactive: /);
    });

    it('queues a notification for every approval, never with the card number', async () => {
      const card = await holder();
      for (let i = 0; i < 2; i++) expect((await pay(card, 300)).kind).to.equal('redirect');
      const sent = (await listOutboxForAccount(ts.db, card.accountId)).filter((m) => m.template === 'payment_approved');
      expect(sent).to.have.length(2);
      expect(sent[0]!.data).to.deep.include({ amount: { amount: 300, currency: 'KRW' }, last4: card.number.slice(-4) });
      expect(JSON.stringify(sent)).to.not.include(card.number);
    });
  });
});
