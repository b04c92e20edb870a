import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { ApprovalRefusedError } from '../../src/approvals/errors.ts';
import { changeLimit } from '../../src/cards/change-limit.ts';
import { releaseGrownWards } from '../../src/cards/release-grown-wards.ts';
import { findThrottle } from '../../src/db/throttles.ts';
import { cardThrottleKey } from '../../src/throttles/check-card-password.ts';
import { Agent, ForwardedAgent, csrfFrom, location, startInteraction } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, e164, postApplication, uniqueEmail, uniqueIp, uniqueMobile, uniqueName } from '../helpers/applicant.ts';
import { issueTestCard, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { alertText, fieldError, inputValue, unescapeHtml, withoutCellLabels } from '../helpers/html.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { approveFor } from '../ledger/fixtures.ts';

interface WardJson {
  account_id: string;
  legal_name: string;
  card: { last4: string; status: string } | null;
  currency: string;
  credit_limit: number;
  available_credit: number;
  held: number;
  balance: number;
  approved_this_month: number;
  recent_approvals: Array<{ created_at: string; date: string; site: string; amount: number; currency: string; status: string }>;
}

/** A guardian's view of the cards linked to theirs: /card/wards and /api/holder/wards. */
describe("a guardian's children's cards (/card/wards, /api/holder/wards)", () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
    site = await registerTestSite(ts, { name: 'Comics <Daily>' } as never);
  });
  after(() => ts?.stop());

  /** An adult card with this limit, to vouch for minors. */
  async function guardianWithLimit(limit: number, name = 'Park Guardian'): Promise<TestCard> {
    const card = await issueTestCard(ts, '1980-03-03', name);
    await changeLimit(ts.db, { cardId: card.cardId, creditLimit: limit, actor: 'test', reason: 'test guardian' });
    return card;
  }

  /** A minor's card applied for with the guardian's card (the real application API). */
  async function minorOf(guardian: TestCard, name: string, age = 16): Promise<TestCard> {
    const app = application({ legal_name: name, birthdate: birthdateForAge(age), guardian_card_number: guardian.number, guardian_password: guardian.password });
    const { status, body } = await postApplication(ts, app);
    expect(status, JSON.stringify(body)).to.equal(201);
    const card = await ts.db('cards').where({ id: body.card_id }).first();
    return { accountId: String(card.account_id), cardId: String(body.card_id), number: String(body.card_number), password: String(app.password) };
  }

  const signedIn = (card: { cardNumber?: string; number?: string; password: string }) => signedInHolder(ts.url, card);

  async function wardsJson(agent: ForwardedAgent): Promise<WardJson[]> {
    const res = await agent.request('/api/holder/wards', { headers: { accept: 'application/json' } });
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    return (await res.json()) as WardJson[];
  }

  it("shows a guardian both children's cards with their figures, and nobody else's", async () => {
    const guardian = await guardianWithLimit(50_000);
    const older = await minorOf(guardian, "Park O'Older", 17);
    const younger = await minorOf(guardian, 'Park Younger', 15);
    const stranger = await guardianWithLimit(50_000, 'Lee Stranger');
    const strangersChild = await minorOf(stranger, 'Lee Child');
    await approveFor(ts, younger, site, 7_000, 'Volume 1');
    await approveFor(ts, strangersChild, site, 3_000);

    const agent = await signedIn(guardian);
    const wards = await wardsJson(agent);
    expect(wards.map((w) => w.legal_name)).to.deep.equal(["Park O'Older", 'Park Younger']);
    const [first, second] = wards as [WardJson, WardJson];
    expect(first).to.deep.include({
      account_id: older.accountId,
      card: { last4: older.number.slice(-4), status: 'active' },
      currency: 'KRW',
      approved_this_month: 0,
      held: 0,
      balance: 0,
      recent_approvals: [],
    });
    expect(first.available_credit).to.equal(first.credit_limit);
    const limit = second.credit_limit;
    expect(limit).to.be.greaterThan(7_000).and.at.most(50_000);
    expect(second).to.deep.include({ account_id: younger.accountId, held: 7_000, available_credit: limit - 7_000, approved_this_month: 7_000, balance: 0 });
    expect(second.recent_approvals).to.have.length(1);
    expect(second.recent_approvals[0]).to.deep.include({ site: 'Comics <Daily>', amount: 7_000, currency: 'KRW', status: 'approved' });
    // Nothing about the stranger's child, nor ids or numbers beyond the last four digits.
    const raw = JSON.stringify(wards);
    for (const other of [strangersChild.accountId, strangersChild.number.slice(-4), 'Lee Child', older.number, younger.number, site.clientId, older.cardId]) {
      expect(raw).to.not.include(other);
    }

    const page = await agent.get('/card/wards');
    expect(page.status).to.equal(200);
    const html = withoutCellLabels(await page.text());
    expect(html).to.include('Park O&#39;Older').and.not.include("Park O'Older");
    expect(html).to.include('Comics &lt;Daily&gt;').and.not.include('Comics <Daily>');
    expect(html).to.include(`Card ending ${younger.number.slice(-4)}`).and.include('7,000 KRW');
    // The status in the holder's words, not the API's code.
    expect(html).to.match(/<td class="n">7,000 KRW<\/td><td>Approved, held <a class="report" href="\/card\/disputes\?approval=\d{4}-\d{4}">Report<\/a><\/td>/);
    expect(html).to.not.include('Lee Child');
    expect(unescapeHtml(html)).to.include('<a href="/card/wards" aria-current="page">Children\'s cards</a>');
    // The approvals' dates are the billing time zone's, and the column says so, as the account page's does.
    expect(html).to.include('<th>Date (Asia/Seoul)</th>');

    const ko = await (await agent.request('/card/wards', { headers: { 'accept-language': 'ko' } })).text();
    expect(ko).to.include('자녀 카드').and.include('이번 달 승인 금액').and.include('<th>날짜(한국 시간 기준)</th>');
  });

  it("tells the guardian of every payment approved with a child's card, in the approval's own statement", async () => {
    const guardian = await guardianWithLimit(50_000);
    // Cards made by the operator's path have no contacts; a guardian who applied online has both.
    await ts.db('accounts').where({ id: guardian.accountId }).update({ email: uniqueEmail('guardian'), mobile: e164(uniqueMobile()) });
    const child = await minorOf(guardian, 'Moon Child', 16);
    const adult = await guardianWithLimit(50_000, 'Moon Adult');
    const approval = await approveFor(ts, child, site, 4_000, 'Volume 2');
    await approveFor(ts, adult, site, 2_000);
    const toGuardian = await ts.db('notifications_outbox').where({ account_id: guardian.accountId, template: 'child_payment_approved' }).select('channel', 'data');
    expect(toGuardian.map((m: { channel: string }) => m.channel)).to.have.members(['email', 'sms']);
    expect(toGuardian[0].data).to.deep.include({ approvalNo: approval.approvalNo, name: 'Moon Child', site: 'Comics <Daily>', amount: { amount: 4000, currency: 'KRW' }, last4: child.number.slice(-4) });
    // The child is told as before; an adult's payment tells nobody else.
    expect(await ts.db('notifications_outbox').where({ account_id: child.accountId, template: 'payment_approved' })).to.have.length(2);
    expect(await ts.db('notifications_outbox').where({ account_id: adult.accountId, template: 'child_payment_approved' })).to.have.length(0);
  });

  it('ends the link when a child comes of age: the guardian no longer sees, limits or hears of them, and the child is told', async () => {
    const guardian = await guardianWithLimit(50_000);
    await ts.db('accounts').where({ id: guardian.accountId }).update({ email: uniqueEmail('guardian'), mobile: e164(uniqueMobile()) });
    const child = await minorOf(guardian, 'Kang Grownup', 17);
    const stillChild = await minorOf(guardian, 'Kang Younger', 15);
    // The years pass for one of them.
    await ts.db('accounts').where({ id: child.accountId }).update({ birthdate: birthdateForAge(ts.config.cards.adultAge) });
    // (Each instance's housekeeping does this too, at any moment: the test checks the state, not who released it.)
    await releaseGrownWards(ts.db, { adultAge: ts.config.cards.adultAge, timeZone: ts.config.billing.timeZone });
    await releaseGrownWards(ts.db, { adultAge: ts.config.cards.adultAge, timeZone: ts.config.billing.timeZone });
    const accounts = await ts.db('accounts').whereIn('id', [child.accountId, stillChild.accountId]).select('id', 'guardian_account_id', 'former_guardian_account_id');
    expect(accounts.find((a: { id: string }) => a.id === child.accountId)).to.include({ guardian_account_id: null, former_guardian_account_id: guardian.accountId });
    expect(accounts.find((a: { id: string }) => a.id === stillChild.accountId)).to.include({ guardian_account_id: guardian.accountId, former_guardian_account_id: null });

    const agent = await signedIn(guardian);
    expect((await wardsJson(agent)).map((w) => w.legal_name)).to.deep.equal(['Kang Younger']);
    const limit = await agent.request(`/api/holder/wards/${child.accountId}/limit`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ credit_limit: 0, password: guardian.password }),
    });
    expect(limit.status).to.equal(404);
    await approveFor(ts, child, site, 1_000);
    await approveFor(ts, stillChild, site, 1_000);
    const told = await ts.db('notifications_outbox').where({ account_id: guardian.accountId, template: 'child_payment_approved' }).select('data');
    expect(told.map((m: { data: { name: string } }) => m.data.name)).to.have.members(['Kang Younger', 'Kang Younger']);
    const audit = await ts.db('audit_log').where({ action: 'account.guardian_released', subject_id: child.accountId });
    expect(audit).to.have.length(1);
    expect(audit[0].details).to.include({ guardianAccountId: guardian.accountId });
    const activity = (await (await (await signedIn(child)).request('/api/holder/activity', { headers: { accept: 'application/json' } })).json()) as { entries: Array<{ kind: string }> };
    expect(activity.entries.map((e) => e.kind)).to.include('guardian_released');
  });

  it('shows a holder who is nobody\'s guardian an empty page and [], and no link to it', async () => {
    const loner = await guardianWithLimit(10_000, 'Choi Alone');
    const agent = await signedIn(loner);
    expect(await wardsJson(agent)).to.deep.equal([]);
    const html = await (await agent.get('/card/wards')).text();
    expect(html).to.include('No cards are linked to yours.');
    // The navigation links the page only for a guardian; the page itself still answers (above).
    const wardsLink = 'href="/card/wards"';
    for (const path of ['/card/account', '/card/activity', '/card/controls', '/card/security', '/card/contacts', '/card/wards']) {
      expect(await (await agent.get(path)).text(), path).to.include('href="/card/account"').and.not.include(wardsLink);
    }
    // A minor sees no one either: the link goes one way.
    const child = await minorOf(loner, 'Choi Child');
    const childAgent = await signedIn(child);
    expect(await wardsJson(childAgent)).to.deep.equal([]);
    expect(await (await childAgent.get('/card/account')).text()).to.not.include(wardsLink);
    // Now a guardian, the holder finds the link on every page.
    for (const path of ['/card/account', '/card/activity', '/card/controls', '/card/security', '/card/contacts', '/card/wards']) {
      expect(await (await agent.get(path)).text(), path).to.include(wardsLink);
    }
  });

  it('sends a visitor who is not signed in to the sign-in page, and the API answers 401', async () => {
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    const page = await stranger.get('/card/wards');
    expect(page.status).to.equal(303);
    expect(location(page, ts.url).pathname).to.equal('/card/signin');
    expect(location(page, ts.url).searchParams.get('next')).to.equal('/card/wards');
    expect((await stranger.request('/api/holder/wards', { headers: { accept: 'application/json' } })).status).to.equal(401);
  });

  describe("the guardian's limit (POST /card/wards/:accountId/limit, PUT /api/holder/wards/:accountId/limit)", () => {
    const limitOf = async (card: TestCard) => Number((await ts.db('accounts').where({ id: card.accountId }).first()).credit_limit);
    const audits = (card: TestCard) =>
      ts.db('audit_log').where({ subject_type: 'account', subject_id: card.accountId, action: 'account.credit_limit_changed' }).orderBy('id');
    const notices = (card: TestCard) =>
      ts.db('notifications_outbox').where({ account_id: card.accountId, template: 'limit_set_by_guardian' }).orderBy('id').select('channel', 'recipient', 'data');

    async function put(agent: ForwardedAgent, accountId: string, body: unknown, contentType = 'application/json') {
      const res = await agent.request(`/api/holder/wards/${accountId}/limit`, {
        method: 'PUT',
        headers: { 'content-type': contentType, accept: 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    }

    /** The csrf token of the limit form for `accountId` on the wards page. */
    async function formCsrf(agent: ForwardedAgent, accountId: string): Promise<string> {
      const html = await (await agent.get('/card/wards')).text();
      const m = new RegExp(`action="/card/wards/${accountId}/limit"[^>]*>\\s*<input type="hidden" name="csrf" value="([^"]+)"`).exec(html);
      if (!m) throw new Error('no limit form for the ward');
      return m[1]!;
    }

    /** Everything a refused change must leave as it was: the limit, its audit trail, the notices. */
    async function snapshot(card: TestCard) {
      return { limit: await limitOf(card), audits: (await audits(card)).length, notices: (await notices(card)).length };
    }

    it("pauses a child's payments with a limit of 0: audited with the guardian as actor, the child told, sign-in still works", async () => {
      const guardian = await guardianWithLimit(40_000);
      const child = await minorOf(guardian, 'Han Child');
      await approveFor(ts, child, site, 1_000);
      const agent = await signedIn(guardian);

      const res = await put(agent, child.accountId, { credit_limit: 0, password: guardian.password });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ account_id: child.accountId, credit_limit: 0, previous_credit_limit: res.body.previous_credit_limit, currency: 'KRW' });
      expect(res.body.previous_credit_limit).to.be.greaterThan(0);
      expect(await limitOf(child)).to.equal(0);

      const [entry] = (await audits(child)).slice(-1);
      expect(entry.actor).to.equal(`guardian:${guardian.accountId}`);
      expect(entry.details).to.include({ from: res.body.previous_credit_limit, to: 0, reason: 'set by the guardian' });
      const sent = await notices(child);
      expect(sent.map((m: { channel: string }) => m.channel)).to.have.members(['email', 'sms']);
      expect(sent[0].data).to.include({ amount: 0, last4: child.number.slice(-4) });

      try {
        await approveFor(ts, child, site, 500);
        expect.fail('the payment went through');
      } catch (err) {
        expect(err).to.be.instanceOf(ApprovalRefusedError);
        expect((err as ApprovalRefusedError).refusal).to.equal('over_limit');
      }
      // The child still signs in, sees who changed the limit, and the guardian's page shows the new limit.
      const childAgent = await signedIn(child);
      const activity = (await (await childAgent.request('/api/holder/activity', { headers: { accept: 'application/json' } })).json()) as { entries: Array<{ kind: string; text: string }> };
      expect(activity.entries.find((e) => e.kind.startsWith('credit_limit'))).to.deep.include({
        kind: 'credit_limit_set_by_guardian',
        text: `Your guardian changed the credit limit from ${res.body.previous_credit_limit.toLocaleString('en-US')} KRW to 0 KRW.`,
      });
      const [ward] = await wardsJson(agent);
      expect(ward).to.deep.include({ credit_limit: 0, available_credit: 0 });
    });

    it('changes, audits and tells nothing when the guardian sets the limit the child has already', async () => {
      const guardian = await guardianWithLimit(40_000);
      const child = await minorOf(guardian, 'Han Same');
      const agent = await signedIn(guardian);
      expect((await put(agent, child.accountId, { credit_limit: 20_000, password: guardian.password })).status).to.equal(200);
      const before = await snapshot(child);
      const again = await put(agent, child.accountId, { credit_limit: 20_000, password: guardian.password });
      expect(again).to.deep.equal({ status: 200, body: { account_id: child.accountId, credit_limit: 20_000, previous_credit_limit: 20_000, currency: 'KRW' } });
      expect(await snapshot(child)).to.deep.equal(before);
    });

    it("tells a child whose guardian paused the card so, on the approval page and in the refusal, not 'repay first'", async () => {
      const guardian = await guardianWithLimit(40_000);
      const child = await minorOf(guardian, 'Nam Child');
      const agent = await signedIn(guardian);
      expect((await put(agent, child.accountId, { credit_limit: 0, password: guardian.password })).status).to.equal(200);

      const refused = await approveFor(ts, child, site, 1_000).catch((e: unknown) => e);
      expect((refused as ApprovalRefusedError).refusal).to.equal('over_limit');
      expect((refused as ApprovalRefusedError).message).to.equal("Your guardian has paused this card's payments. Ask them to raise its limit.");

      // The approval page says it before the holder presses anything.
      const config = await siteClient(ts, site);
      const { url } = await payRequest(config, site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Episode 3' }]);
      const browser = new Agent(ts.url);
      const { path, csrf } = await startInteraction(browser, url);
      const page = unescapeHtml(await (await browser.post(`${path}/login`, { csrf, card_number: child.number, password: child.password })).text());
      expect(page).to.include("Your guardian has paused this card's payments, so it will not be approved. Ask them to raise its limit.");
      expect(page).not.to.include('repay first');
      // An adult's card over its credit is still told to repay.
      const adult = await guardianWithLimit(500, 'Nam Adult');
      const other = await payRequest(config, site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Episode 3' }]);
      const adultBrowser = new Agent(ts.url);
      const started = await startInteraction(adultBrowser, other.url);
      const adultPage = await (await adultBrowser.post(`${started.path}/login`, { csrf: started.csrf, card_number: adult.number, password: adult.password })).text();
      expect(adultPage).to.include('repay first');
    });

    it('sets a limit by the form, up to the guardian\'s own and no higher, refilling the form on a refusal', async () => {
      const guardian = await guardianWithLimit(30_000);
      const child = await minorOf(guardian, 'Song Child');
      const agent = await signedIn(guardian);
      const action = `/card/wards/${child.accountId}/limit`;

      const done = await agent.post(action, { csrf: await formCsrf(agent, child.accountId), credit_limit: '12,000', password: guardian.password });
      expect(done.status).to.equal(200);
      const html = await done.text();
      expect(unescapeHtml(html)).to.include('The limit of Song Child is now 12,000 KRW.');
      expect(await limitOf(child)).to.equal(12_000);
      // In the page's language, like every other sentence on it.
      const korean = await agent.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'ko' },
        body: new URLSearchParams({ csrf: await formCsrf(agent, child.accountId), credit_limit: '11000', password: guardian.password }).toString(),
      });
      expect(unescapeHtml(await korean.text())).to.include('Song Child의 한도가 이제 11,000원입니다.');

      const before = await snapshot(child);
      const over = await agent.post(action, { csrf: await formCsrf(agent, child.accountId), credit_limit: '30001', password: guardian.password });
      expect(over.status).to.equal(400);
      const overHtml = await over.text();
      expect(fieldError(overHtml, 'credit_limit')).to.equal('At most your own limit, 30,000 KRW.');
      expect(inputValue(overHtml.slice(overHtml.indexOf(action)), 'credit_limit')).to.equal('30001');
      expect((await put(agent, child.accountId, { credit_limit: 30_001, password: guardian.password })).status).to.equal(400);
      expect(await snapshot(child)).to.deep.equal(before);
      // Exactly the guardian's limit is allowed.
      expect((await put(agent, child.accountId, { credit_limit: 30_000, password: guardian.password })).status).to.equal(200);
      expect(await limitOf(child)).to.equal(30_000);
    });

    it("keeps a child's limit within the deployment's cap for minors, even for a guardian whose own limit is higher", async () => {
      const cap = ts.config.cards.creditLimit.minor;
      const guardian = await guardianWithLimit(cap * 4);
      const child = await minorOf(guardian, 'Yu Child');
      const before = await snapshot(child);
      const agent = await signedIn(guardian);
      const over = await put(agent, child.accountId, { credit_limit: cap + 1, password: guardian.password });
      expect(over.status).to.equal(400);
      expect(over.body.fields.credit_limit).to.match(/the most a minor's card may have/);
      expect(await snapshot(child)).to.deep.equal(before);
      expect((await put(agent, child.accountId, { credit_limit: cap, password: guardian.password })).status).to.equal(200);
    });

    it('says beside the form the highest limit it takes: the guardian\'s own, or the cap for minors when that is lower', async () => {
      const cap = ts.config.cards.creditLimit.minor;
      const hint = async (guardian: TestCard, lang = 'en') => {
        const agent = await signedIn(guardian);
        const res = await agent.request('/card/wards', { headers: { 'accept-language': lang } });
        return unescapeHtml(await res.text()).replace(/\s+/g, ' ');
      };
      const rich = await guardianWithLimit(cap * 4);
      await minorOf(rich, 'Ko Child');
      const richPage = await hint(rich);
      expect(richPage).to.include(`up to ${cap.toLocaleString('en-US')} KRW, the most a minor's card may have.`);
      expect(richPage).not.to.include('up to your own limit');
      expect(await hint(rich, 'ko')).to.include(`미성년자 카드의 최대 한도인 ${cap.toLocaleString('en-US')}원까지`);

      const modest = await guardianWithLimit(30_000, 'Ko Modest');
      await minorOf(modest, 'Ko Other');
      expect(await hint(modest)).to.include('up to your own limit, 30,000 KRW.');
      expect(await hint(modest, 'ko')).to.include('내 한도인 30,000원까지');
    });

    it("answers 404 alike for another holder's child, an unknown account and a malformed id, and changes nothing", async () => {
      const guardian = await guardianWithLimit(30_000);
      const own = await minorOf(guardian, uniqueName('Seo'));
      const other = await guardianWithLimit(30_000, 'Yoon Other');
      const othersChild = await minorOf(other, 'Yoon Child');
      const adult = await guardianWithLimit(30_000, 'Yoon Adult');
      const before = await snapshot(othersChild);
      const agent = await signedIn(guardian);
      const answers = [];
      for (const id of [othersChild.accountId, randomUUID(), adult.accountId, guardian.accountId, 'not-an-id', '1%00']) {
        const res = await put(agent, id, { credit_limit: 0, password: guardian.password });
        expect(res.status, id).to.equal(404);
        answers.push(res.body);
      }
      expect(new Set(answers.map((a) => JSON.stringify({ ...a, request_id: undefined }))).size).to.equal(1);
      const page = await agent.post(`/card/wards/${othersChild.accountId}/limit`, { csrf: await formCsrf(agent, own.accountId), credit_limit: '0', password: guardian.password });
      expect(page.status).to.equal(404);
      expect(await snapshot(othersChild)).to.deep.equal(before);
      expect(await limitOf(adult)).to.equal(30_000);
    });

    it("refuses a wrong password, counted towards the guardian's card lockout, and changes nothing", async () => {
      const guardian = await guardianWithLimit(30_000);
      const child = await minorOf(guardian, 'Jang Child');
      const before = await snapshot(child);
      const agent = await signedIn(guardian);
      const key = { scope: 'card' as const, key: cardThrottleKey(ts.config.secrets.cardHmacKey, guardian.number)! };

      const wrong = await put(agent, child.accountId, { credit_limit: 0, password: 'not my password' });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.fields).to.have.property('password');
      expect((await findThrottle(ts.db, key))?.count).to.equal(1);

      const form = await agent.post(`/card/wards/${child.accountId}/limit`, { csrf: await formCsrf(agent, child.accountId), credit_limit: '0', password: 'still not it' });
      expect(form.status).to.equal(401);
      const html = await form.text();
      expect(fieldError(html, 'password')).to.equal('The card password is not correct.');
      expect(html).to.not.include('still not it');
      expect((await findThrottle(ts.db, key))?.count).to.equal(2);
      // Each is in the guardian's audit trail, which their activity page shows.
      const audited = await ts.db('audit_log').where({ action: 'card.password_failed', subject_type: 'card' }).whereRaw("details->>'accountId' = ?", [guardian.accountId]);
      expect(audited.map((r: { details: { page: string } }) => r.details.page)).to.deep.equal(['child_limit', 'child_limit']);
      // A missing password is a field error, not a guess.
      const missing = await put(agent, child.accountId, { credit_limit: 0 });
      expect(missing.status).to.equal(400);
      expect(missing.body.fields).to.have.property('password');
      expect((await findThrottle(ts.db, key))?.count).to.equal(2);
      expect(await snapshot(child)).to.deep.equal(before);
    });

    it('refuses the form without or with a wrong csrf token (403), and changes nothing', async () => {
      const guardian = await guardianWithLimit(30_000);
      const child = await minorOf(guardian, 'Kang Child');
      const before = await snapshot(child);
      const agent = await signedIn(guardian);
      const action = `/card/wards/${child.accountId}/limit`;
      expect((await agent.post(action, { credit_limit: '0', password: guardian.password })).status).to.equal(403);
      expect((await agent.post(action, { csrf: 'forged', credit_limit: '0', password: guardian.password })).status).to.equal(403);
      // The sign-out form's token is for signing out only.
      const signOut = csrfFrom(await (await agent.get('/card/wards')).text());
      expect((await agent.post(action, { csrf: signOut, credit_limit: '0', password: guardian.password })).status).to.equal(403);
      expect(await snapshot(child)).to.deep.equal(before);
    });

    it('refuses bad input with 4xx and the database unchanged: not JSON, arrays, strings, fractions, negatives, huge numbers, NUL', async () => {
      const guardian = await guardianWithLimit(30_000);
      const child = await minorOf(guardian, 'Baek Child');
      const before = await snapshot(child);
      const agent = await signedIn(guardian);
      const password = guardian.password;
      expect((await put(agent, child.accountId, 'credit_limit=0', 'application/x-www-form-urlencoded')).status).to.equal(415);
      expect((await put(agent, child.accountId, '{"credit_limit": ', 'application/json')).status).to.equal(400);
      for (const body of [
        [],
        [{ credit_limit: 0, password }],
        'zero',
        { credit_limit: '0', password },
        { credit_limit: [0], password },
        { credit_limit: 1.5, password },
        { credit_limit: -1, password },
        { credit_limit: 1e300, password },
        { credit_limit: null, password },
        { credit_limit: 0, password: `${password}\u0000` },
        { credit_limit: 0, password: [password] },
        { credit_limit: 0, password, surprise: true },
        { password },
      ]) {
        const res = await put(agent, child.accountId, body);
        expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(400);
      }
      const action = `/card/wards/${child.accountId}/limit`;
      for (const credit_limit of ['', 'abc', '-1', '1.5', '9'.repeat(40), '1\u00000', '0x10']) {
        const res = await agent.post(action, { csrf: await formCsrf(agent, child.accountId), credit_limit, password });
        expect(res.status, JSON.stringify(credit_limit)).to.equal(400);
        const html = await res.text();
        expect(alertText(html)).to.be.a('string');
        // In money the holder reads, as the page shows amounts; never "minor units".
        if (['abc', '-1', '1.5'].includes(credit_limit)) {
          expect(fieldError(html, 'credit_limit')).to.equal('Enter a whole amount from 0 KRW (payments paused) to 1,000,000,000,000 KRW.');
        }
      }
      const korean = await agent.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'ko' },
        body: new URLSearchParams({ csrf: await formCsrf(agent, child.accountId), credit_limit: 'abc', password }).toString(),
      });
      expect(fieldError(await korean.text(), 'credit_limit')).to.equal('0원(결제 일시 중지)부터 1,000,000,000,000원까지의 금액을 정수로 입력하세요.');
      // Programs sending JSON keep the contract's words: integers in minor units.
      const api = await put(agent, child.accountId, { credit_limit: -1, password });
      expect((api.body as { fields: Record<string, string> }).fields.credit_limit).to.include('minor units');
      const twice = await agent.request(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `csrf=${encodeURIComponent(await formCsrf(agent, child.accountId))}&credit_limit=0&credit_limit=0&password=${encodeURIComponent(password)}`,
      });
      expect(twice.status).to.equal(400);
      expect(await snapshot(child)).to.deep.equal(before);
    });

    it('refuses a caller who is not signed in: 401 for the API, the sign-in page for the form', async () => {
      const guardian = await guardianWithLimit(30_000);
      const child = await minorOf(guardian, 'Oh Child');
      const before = await snapshot(child);
      const stranger = new ForwardedAgent(ts.url, uniqueIp());
      expect((await put(stranger, child.accountId, { credit_limit: 0, password: guardian.password })).status).to.equal(401);
      const form = await stranger.post(`/card/wards/${child.accountId}/limit`, { credit_limit: '0', password: guardian.password });
      expect(form.status).to.equal(303);
      expect(location(form, ts.url).pathname).to.equal('/card/signin');
      expect(await snapshot(child)).to.deep.equal(before);
    });
  });
});
