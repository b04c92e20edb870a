import { expect } from 'chai';
import { changeLimit } from '../../src/cards/change-limit.ts';
import { ForwardedAgent, csrfFrom, location } from '../helpers/agent.ts';
import { APPLY_SERVER, application, birthdateForAge, postApplication, uniqueIp } from '../helpers/applicant.ts';
import { issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { unescapeHtml } from '../helpers/html.ts';
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

  async function signedIn(card: { number: string; password: string }): Promise<ForwardedAgent> {
    const agent = new ForwardedAgent(ts.url, uniqueIp());
    const page = await (await agent.get('/card/signin')).text();
    const res = await agent.post('/card/signin', { csrf: csrfFrom(page), card_number: card.number, password: card.password });
    expect(res.status).to.equal(303);
    return agent;
  }

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
    const html = await page.text();
    expect(html).to.include('Park O&#39;Older').and.not.include("Park O'Older");
    expect(html).to.include('Comics &lt;Daily&gt;').and.not.include('Comics <Daily>');
    expect(html).to.include(`Card ending ${younger.number.slice(-4)}`).and.include('7,000 KRW');
    expect(html).to.not.include('Lee Child');
    expect(unescapeHtml(html)).to.include('<a href="/card/wards">Children\'s cards</a>');

    const ko = await (await agent.request('/card/wards', { headers: { 'accept-language': 'ko' } })).text();
    expect(ko).to.include('자녀 카드').and.include('이번 달 승인 금액');
  });

  it('shows a holder who is nobody\'s guardian an empty page and []', async () => {
    const loner = await guardianWithLimit(10_000, 'Choi Alone');
    const agent = await signedIn(loner);
    expect(await wardsJson(agent)).to.deep.equal([]);
    const html = await (await agent.get('/card/wards')).text();
    expect(html).to.include('No cards are linked to yours.');
    // A minor sees no one either: the link goes one way.
    const child = await minorOf(loner, 'Choi Child');
    expect(await wardsJson(await signedIn(child))).to.deep.equal([]);
  });

  it('sends a visitor who is not signed in to the sign-in page, and the API answers 401', async () => {
    const stranger = new ForwardedAgent(ts.url, uniqueIp());
    const page = await stranger.get('/card/wards');
    expect(page.status).to.equal(303);
    expect(location(page, ts.url).pathname).to.equal('/card/signin');
    expect(location(page, ts.url).searchParams.get('next')).to.equal('/card/wards');
    expect((await stranger.request('/api/holder/wards', { headers: { accept: 'application/json' } })).status).to.equal(401);
  });
});
