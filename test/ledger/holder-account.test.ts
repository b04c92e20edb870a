import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { refund } from '../../src/approvals/refund.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { repay } from '../../src/ledger/repay.ts';
import { Agent, csrfFrom } from '../helpers/agent.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, operator, startLedgerServer } from './fixtures.ts';

describe('holder account view (/card/account, /api/holder/account)', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let stranger: TestCard;
  let agent: Agent;
  let openNo: string;
  let chargedNo: string;

  async function signIn(c: TestCard): Promise<Agent> {
    const a = new Agent(ts.url);
    const form = await a.get('/card/signin?next=/card/account');
    const res = await a.post('/card/signin', { csrf: csrfFrom(await form.text()), card_number: c.number, password: c.password, next: '/card/account' });
    expect(res.status).to.equal(303);
    return a;
  }

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Comics <Daily>' } as never);
    card = await cardWithLimit(ts, 100_000);
    stranger = await cardWithLimit(ts, 100_000);
    const charged = await approveFor(ts, card, site, 8_000, 'Volume 1');
    chargedNo = charged.approvalNo;
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: charged.approvalNo, actor: 'test' }));
    await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: charged.approvalNo, amount: 1_000, actor: 'test' }));
    await repay(ledgerOf(ts), { accountId: card.accountId, amount: 2_000, currency: 'KRW', source: 'operator', actor: 'test' });
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    openNo = (await approveFor(ts, card, site, 3_000, 'Volume 2')).approvalNo;
    const other = await approveFor(ts, stranger, site, 500, 'Other');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: other.approvalNo, actor: 'test' }));
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    agent = await signIn(card);
  });
  after(() => ts.stop());

  it('gives the signed-in holder balance, available credit, open holds, recent approvals and statements as JSON', async () => {
    const res = await agent.get('/api/holder/account');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const body = (await res.json()) as Record<string, any>;
    expect(body).to.include({ currency: 'KRW', credit_limit: 100_000, balance: 5_000, held: 3_000, available_credit: 92_000 });
    expect(body.standing).to.deep.equal({ status: 'good' });
    expect(body.open_holds.map((h: { approval_no: string }) => h.approval_no)).to.deep.equal([openNo]);
    expect(body.recent_approvals.map((h: { approval_no: string }) => h.approval_no)).to.have.members([openNo, chargedNo]);
    expect(body.statements).to.have.length(1);
    expect(body.statements[0]).to.include({ opening_balance: 0, charges: 8_000, refunds: 1_000, repayments: 2_000, closing_balance: 5_000 });
    const statement = await agent.get(`/api/holder/statements/${body.statements[0].id}`);
    const s = (await statement.json()) as Record<string, any>;
    expect(s.lines.map((l: { kind: string; amount: number }) => [l.kind, l.amount])).to.have.deep.members([
      ['charge', 8_000],
      ['refund', 1_000],
      ['repayment', 2_000],
    ]);
  });

  it("shows the same on the page, escaped, and never another holder's statement", async () => {
    const page = await agent.get('/card/account');
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.include('5,000 KRW');
    expect(html).to.include('92,000 KRW of 100,000 KRW');
    expect(html).to.include(openNo);
    expect(html).to.include('Comics &lt;Daily&gt;');
    expect(html).to.include('Volume 1');
    expect(html).to.not.include('Comics <Daily>');
    const theirs = await ts.db('statements').where({ account_id: stranger.accountId }).first();
    expect((await agent.get(`/api/holder/statements/${theirs.id}`)).status).to.equal(404);
    expect((await agent.get(`/card/account?statement=${theirs.id}`)).status).to.equal(404);
    for (const bad of ['0', '-1', 'abc', '1.5', '99999999999999999999']) {
      expect((await agent.get(`/api/holder/statements/${bad}`)).status, bad).to.be.oneOf([400, 404]);
      expect((await agent.get(`/card/account?statement=${bad}`)).status, bad).to.equal(400);
    }
  });

  it('asks for sign-in first: 401 for the API, a redirect to /card/signin for the page', async () => {
    const anon = new Agent(ts.url);
    expect((await anon.get('/api/holder/account')).status).to.equal(401);
    const page = await anon.get('/card/account');
    expect(page.status).to.equal(303);
    expect(page.headers.get('location')).to.match(/^\/card\/signin\?next=%2Fcard%2Faccount/);
  });

  it('gives the operator the same view for a card, and 404 for an unknown one', async () => {
    const res = await operator(ts, 'GET', `/admin/api/ledger/cards/${card.cardId}`);
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ balance: 5_000, available_credit: 92_000 });
    expect((await operator(ts, 'GET', '/admin/api/ledger/cards/00000000-0000-4000-8000-000000000000')).status).to.equal(404);
    expect((await operator(ts, 'GET', '/admin/api/ledger/cards/nope')).status).to.equal(400);
    const st = (res.json.statements as Array<{ id: number }>)[0]!;
    const one = await operator(ts, 'GET', `/admin/api/ledger/statements/${st.id}`);
    expect(one.status).to.equal(200);
    expect(one.json.account_id).to.equal(card.accountId);
    expect((await operator(ts, 'GET', '/admin/api/ledger/statements/999999')).status).to.equal(404);
    expect((await operator(ts, 'GET', '/admin/api/ledger/statements/x')).status).to.equal(400);
  });
});
