import { expect } from 'chai';
import { birthdateForAge } from '../helpers/applicant.ts';
import { Agent, location, runLogin, type FlowResult } from '../helpers/agent.ts';
import { payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { unescapeHtml } from '../helpers/html.ts';
import type { TestServer } from '../helpers/server.ts';
import { sweepDelinquency } from '../../src/ledger/delinquency.ts';
import { renderMessage } from '../../src/notifications/templates.ts';
import type { Channel } from '../../src/db/outbox.ts';
import { cardWithLimit, CHILD, familyOf, ledgerOf, makeOverdue, operator, startLedgerServer } from './fixtures.ts';

async function pay(ts: TestServer, site: TestSite, card: TestCard, uiLocales?: string): Promise<{ agent: Agent; result: FlowResult }> {
  const cfg = await siteClient(ts, site);
  const req = await payRequest(cfg, site, [{ type: 'payment', amount: 1_000, currency: 'KRW', description: 'Film' }], uiLocales ? { ui_locales: uiLocales } : {});
  const agent = new Agent(ts.url);
  return { agent, result: await runLogin(agent, req.url, card) };
}

const heading = (html: string) => unescapeHtml(/<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1] ?? '').trim();

/** A guardian with two linked minors, the first's statement overdue: the guardian is in arrears. */
async function twoWards(ts: TestServer, site: TestSite): Promise<{ guardian: TestCard; minor: TestCard; sibling: TestCard }> {
  const family = await familyOf(ts);
  const sibling = await cardWithLimit(ts, 20_000, { guardian_account_id: family.guardian.accountId, birthdate: birthdateForAge(13), legal_name: 'Jiwoo Kim' });
  await makeOverdue(ts, site, family);
  return { ...family, sibling };
}

const STOPPED =
  /A statement your guardian answers for, of \d{4}-\d{2}-\d{2}, was due on \d{4}-\d{2}-\d{2} and is still unpaid\. New charges on your card are refused until your guardian pays it; free content stays open\./;

/**
 * With delinquency.guardianResponsible the guardian answers for every linked minor's statement: one child's overdue
 * statement puts the guardian in arrears, which stops the guardian's card (ward_delinquent) and, as the guardian's own
 * overdue statement does, every other linked minor's card (`delinquent`), not only the child whose statement it is.
 * The other child is told it is a statement their guardian answers for, its dates, and that the guardian paying it
 * restores the card: not whose it is, nor its figures.
 */
describe("a linked minor's card while another child's statement the guardian answers for is overdue", () => {
  let ts: TestServer;
  let site: TestSite;
  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { maxAmount: 50_000 });
  });
  after(() => ts.stop());

  it("refuses the other child's payment coded delinquent, with words that name neither the child nor the figures, and pays again once it is repaid", async () => {
    const { minor, sibling, guardian } = await twoWards(ts, site);
    expect((await pay(ts, site, guardian)).result.kind).to.equal('page');
    const { agent, result } = await pay(ts, site, sibling);
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.equal(403);
    expect(heading(result.html)).to.equal('A statement your guardian answers for is overdue');
    const text = unescapeHtml(result.html);
    expect(text).to.match(STOPPED);
    expect(text).not.to.include(CHILD);
    expect(text).not.to.include('3,000 KRW');
    const link = unescapeHtml(/href="([^"]+)" id="return"/.exec(result.html)![1]!);
    const toSite = location(await agent.get(new URL(link, ts.url)), ts.url);
    expect(toSite.searchParams.get('error')).to.equal('access_denied');
    expect(toSite.searchParams.get('error_description')).to.match(/^delinquent: /);
    expect(await ts.db('approvals').where({ account_id: sibling.accountId }).first()).to.equal(undefined);

    const ko = await pay(ts, site, sibling, 'ko');
    expect(ko.result.kind).to.equal('page');
    if (ko.result.kind === 'page') {
      expect(heading(ko.result.html)).to.equal('보호자님이 책임지는 명세서가 연체되었습니다');
      expect(unescapeHtml(ko.result.html)).to.match(/보호자님이 책임지는 \d{4}-\d{2}-\d{2} 명세서의 납부 기한\(\d{4}-\d{2}-\d{2}\)이 지났으며 아직 납부되지 않았습니다/);
    }

    const holder = await signedInHolder(ts.url, sibling);
    expect(unescapeHtml(await (await holder.get('/card/account')).text())).to.match(STOPPED);
    const json = (await (await holder.get('/api/holder/account')).json()) as { standing: Record<string, unknown> };
    expect(json.standing).to.deep.include({ status: 'overdue', reason: 'sibling' });
    expect(json.standing.message).to.equal('Payment overdue on a statement your guardian answers for: new charges on your card are refused until your guardian pays it.');
    expect(json.standing.sibling_statement).to.have.all.keys('statement_date', 'due_date');
    expect(json.standing).not.to.have.any.keys('outstanding', 'account_id', 'ward_name');

    // The guardian's Children's cards page says the overdue child's statement stops the other children's cards too.
    const parent = await signedInHolder(ts.url, guardian);
    const wards = (await (await parent.get('/api/holder/wards')).json()) as Array<{ account_id: string; standing: Record<string, unknown> }>;
    expect(wards.find((w) => w.account_id === minor.accountId)!.standing).to.include({ status: 'overdue', guardian_stopped: true, siblings_stopped: true });
    expect(unescapeHtml(await (await parent.get('/card/wards')).text())).to.match(
      /The statement of \d{4}-\d{2}-\d{2} was due on \d{4}-\d{2}-\d{2} and 3,000 KRW is still unpaid\. New charges on this card, on yours and on your other children's cards are refused until it is paid\./,
    );
    // The operator sees whose statement it is, on the API and the console's card page.
    const ops = await operator(ts, 'GET', `/admin/api/ledger/cards/${sibling.cardId}`);
    expect(ops.json.standing).to.deep.include({ status: 'overdue', reason: 'sibling' });
    expect((ops.json.standing as { sibling_statement: unknown }).sibling_statement).to.include({ account_id: minor.accountId, outstanding: 3_000 });
    const consolePage = unescapeHtml(await (await (await signedInOperator(ts.url, ts.config.secrets.operatorToken!)).get(`/admin/cards/${sibling.cardId}`)).text());
    expect(consolePage).to.include(`3,000 KRW is unpaid (that minor’s account <code>${minor.accountId}</code>)`);
    expect(consolePage).not.to.include('NaN');

    const repaid = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: minor.cardId, amount: 3_000, currency: 'KRW' });
    expect(repaid.status).to.equal(201);
    expect((await pay(ts, site, sibling)).result.kind).to.equal('redirect');
    expect((await pay(ts, site, guardian)).result.kind).to.equal('redirect');
  });
});

describe("telling a linked minor that another child's statement the guardian answers for stops their card", () => {
  let ts: TestServer;
  let site: TestSite;
  const told = async (accountId: string) =>
    (await ts.db('notifications_outbox').where({ account_id: accountId }).whereIn('template', ['payment_overdue', 'payment_restored', 'statement_paid_still_paused']).orderBy('id')) as Array<{
      template: string;
      data: Record<string, unknown>;
      channel: Channel;
    }>;
  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { maxAmount: 50_000 });
  });
  after(() => ts.stop());

  it('tells the other child once, in words of their own (dates, not whose nor how much), and again when the repayment frees the card', async () => {
    const { minor, sibling, guardian } = await twoWards(ts, site);
    await ts.db('accounts').where({ id: sibling.accountId }).update({ email: 'sibling@example.test' });
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(1);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(0);
    const stopped = await told(sibling.accountId);
    expect(stopped.map((m) => m.template)).to.deep.equal(['payment_overdue']);
    expect(stopped[0]!.data).to.include({ sibling: true });
    expect(stopped[0]!.data).not.to.have.any.keys('amount', 'ward', 'also');
    const en = renderMessage('payment_overdue', stopped[0]!.data, ts.url, 'en', stopped[0]!.channel).text;
    expect(en).to.match(STOPPED);
    expect(en).not.to.include(CHILD);
    expect(renderMessage('payment_overdue', stopped[0]!.data, ts.url, 'ko', stopped[0]!.channel).text).to.include('보호자님이 책임지는');

    // The guardian is told the other children's cards stop too.
    const [parent] = (await ts.db('notifications_outbox').where({ account_id: guardian.accountId, template: 'payment_overdue' })) as Array<{ data: Record<string, unknown>; channel: Channel }>;
    expect(parent!.data).to.include({ ward: CHILD, siblings: true });
    expect(renderMessage('payment_overdue', parent!.data, ts.url, 'en', parent!.channel).text).to.include("New charges on that card, on yours and on your other children's cards are refused until it is paid");
    expect(renderMessage('payment_overdue', parent!.data, ts.url, 'ko', parent!.channel).text).to.include('다른 자녀 카드');

    const repaid = await operator(ts, 'POST', '/admin/api/ledger/repayments', { card_id: minor.cardId, amount: 3_000, currency: 'KRW' });
    expect(repaid.status).to.equal(201);
    const after = await told(sibling.accountId);
    expect(after.map((m) => m.template)).to.deep.equal(['payment_overdue', 'payment_restored']);
    const freed = renderMessage('payment_restored', after[1]!.data, ts.url, 'en', after[1]!.channel).text;
    expect(freed).to.equal('The overdue statement your guardian answers for is paid: your card is in good standing again and new charges are accepted.');
    expect(renderMessage('payment_restored', after[1]!.data, ts.url, 'ko', after[1]!.channel).text).to.include('보호자님이 책임지는');
  });
});

describe("a linked minor's card with delinquency.guardianResponsible off", () => {
  let ts: TestServer;
  let site: TestSite;
  before(async () => {
    ts = await startLedgerServer({ delinquency: { graceDays: 5, guardianResponsible: false, blockLogins: false } });
    site = await registerTestSite(ts, { maxAmount: 50_000 });
  });
  after(() => ts.stop());

  it("is not stopped by another child's overdue statement", async () => {
    const { minor, sibling } = await twoWards(ts, site);
    expect((await pay(ts, site, minor)).result.kind).to.equal('page');
    expect((await pay(ts, site, sibling)).result.kind).to.equal('redirect');
  });
});
