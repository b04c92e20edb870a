import { expect } from 'chai';
import { renderMessage } from '../../src/notifications/templates.ts';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { approve } from '../../src/approvals/approve.ts';
import { capture } from '../../src/approvals/capture.ts';
import { refund } from '../../src/approvals/refund.ts';
import { ApprovalRefusedError } from '../../src/approvals/errors.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { sweepDelinquency } from '../../src/ledger/delinquency.ts';
import { repay } from '../../src/ledger/repay.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { Agent, csrfFrom, location, runLogin } from '../helpers/agent.ts';
import { authRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, approvalsOf, cardWithLimit, ledgerOf, operator, startLedgerServer } from './fixtures.ts';

describe('delinquency', () => {
  let ts: TestServer;
  let site: TestSite;
  let guardian: TestCard;
  let minor: TestCard;
  /** A hold the guardian's statement does not hold: captured only after the statement closed. */
  let later: { approvalNo: string };
  let concert: { approvalNo: string };

  async function refusal(card: TestCard, policy = approvalsOf(ts).policy): Promise<ApprovalRefusedError | undefined> {
    try {
      await approve(
        { db: ts.db, policy },
        { accountId: card.accountId, cardId: card.cardId, clientId: site.clientId, amount: 100, currency: 'KRW', description: 'x', contentRef: null, rating: 0 },
      );
      return undefined;
    } catch (err) {
      if (err instanceof ApprovalRefusedError) return err;
      throw err;
    }
  }
  const outbox = (accountId: string, template: string) => ts.db('notifications_outbox').where({ account_id: accountId, template });
  const flag = async (c: TestCard) => (await ts.db('accounts').where({ id: c.accountId }).first()).delinquent_since;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
    guardian = await cardWithLimit(ts, 100_000, { email: 'guardian@example.test', locale: 'ko' });
    // A real minor's birthdate: housekeeping releases grown-up wards within a minute of start (start-housekeeping.ts).
    minor = await cardWithLimit(ts, 20_000, { guardian_account_id: guardian.accountId, email: 'minor@example.test', birthdate: birthdateForAge(15) });
    concert = await approveFor(ts, guardian, site, 5_000, 'Concert');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: concert.approvalNo, actor: 'test' }));
    later = await approveFor(ts, guardian, site, 4_000, 'Held at statement time');
    // A statement dated 30 days back (due 14 days after it, 5 days' grace): overdue today.
    const d = new Date(`${todayIn(ts.config.billing.timeZone)}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() - 30);
    if (d.getUTCDate() > 28) d.setUTCDate(28);
    await ts.db('accounts').whereIn('id', [guardian.accountId, minor.accountId]).update({ statement_day: d.getUTCDate() });
    await billingRun(ledgerOf(ts), { date: d.toISOString().slice(0, 10), cutoff: new Date() });
  });
  after(() => ts.stop());

  it('refuses new charges past the due date plus grace with "payment overdue", also on the minor the guardian answers for', async () => {
    const own = await refusal(guardian);
    expect(own?.refusal).to.equal('delinquent');
    expect(own?.message).to.match(/^Payment overdue: Your statement of .* 5,000 KRW unpaid/);
    const ward = await refusal(minor);
    expect(ward?.refusal).to.equal('delinquent');
    expect(ward?.message).to.match(/^Your guardian's statement of .* New charges on your card are refused until your guardian pays it/);
    // With guardianResponsible off, the minor's own (clean) standing is what counts.
    const policy = { ...approvalsOf(ts).policy, delinquency: { ...ledgerOf(ts).delinquency, guardianResponsible: false } };
    expect(await refusal(minor, policy)).to.equal(undefined);
    expect(Number((await ts.db('accounts').where({ id: guardian.accountId }).first()).held_amount)).to.equal(4_000);
  });

  it('still lets the holder log in to free content, with an access token that says the standing is overdue', async () => {
    const cfg = await siteClient(ts, site);
    const req = await authRequest(cfg, site, { resource: site.resource });
    const result = await runLogin(new Agent(ts.url), req.url, guardian);
    expect(result.kind).to.equal('redirect');
    if (result.kind === 'redirect') {
      const tokens = await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
      const claims = decodeJwt(tokens.access_token);
      expect(claims.credit).to.deep.include({ currency: 'KRW', standing: 'overdue' });
    }
  });

  it('flags the account and notifies the holder (and the guardian of a minor) once', async () => {
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(1);
    expect(await flag(guardian)).to.be.instanceOf(Date);
    expect(await outbox(guardian.accountId, 'payment_overdue')).to.have.length(1);
    expect(await sweepDelinquency(ledgerOf(ts))).to.equal(0);
    expect(await outbox(guardian.accountId, 'payment_overdue')).to.have.length(1);
    const view = await operator(ts, 'GET', `/admin/api/ledger/cards/${guardian.cardId}`);
    expect(view.json.standing).to.include({ status: 'overdue', outstanding: 5_000 });
  });

  it('counts a refund of a charge on the statement as paying it, a refund of a later charge not at all', async () => {
    // The hold placed before the statement, captured and refunded after it: the debt is what it was.
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: later.approvalNo, actor: 'test' }));
    await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: later.approvalNo, actor: 'test' }));
    expect((await refusal(guardian))?.message).to.match(/5,000 KRW unpaid/);
    // Part of the statement's own charge refunded: that much less is owed.
    await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: concert.approvalNo, amount: 1_000, actor: 'test' }));
    expect((await refusal(guardian))?.message).to.match(/4,000 KRW unpaid/);
  });

  it('restores charges once a repayment covers the statement, not before', async () => {
    const ledger = ledgerOf(ts);
    const partial = await repay(ledger, { accountId: guardian.accountId, amount: 2_000, currency: 'KRW', source: 'operator', actor: 'test' });
    expect(partial.status === 'applied' && partial.restored).to.equal(false);
    expect((await refusal(guardian))?.message).to.match(/2,000 KRW unpaid/);
    expect(await flag(guardian)).to.be.instanceOf(Date);

    const rest = await repay(ledger, { accountId: guardian.accountId, amount: 2_000, currency: 'KRW', source: 'operator', actor: 'test' });
    expect(rest.status === 'applied' && rest.restored).to.equal(true);
    expect(await flag(guardian)).to.equal(null);
    expect(await outbox(guardian.accountId, 'payment_restored')).to.have.length(1);
    expect(await refusal(guardian)).to.equal(undefined);
    expect(await refusal(minor)).to.equal(undefined);
    const view = await operator(ts, 'GET', `/admin/api/ledger/cards/${guardian.cardId}`);
    expect(view.json.standing).to.deep.equal({ status: 'good' });
  });

  it("queues a statement_ready message for a holder with an email address, in the holder's language", async () => {
    const [m] = await outbox(guardian.accountId, 'statement_ready');
    expect(m.recipient).to.equal('guardian@example.test');
    expect(m.data).to.include({ closing: 5_000, currency: 'KRW' });
    expect(m.locale).to.equal('ko');
    const text = renderMessage('statement_ready', m.data, ts.url, m.locale, m.channel).text;
    expect(text).to.match(/^\d{4}-\d{2}-\d{2} 명세서가 나왔습니다\. 청구 금액은 5,000원이며, 납부 기한은 \d{4}-\d{2}-\d{2}입니다\. /);
  });
});

describe('delinquency with plain logins stopped too (delinquency.blockLogins)', () => {
  let ts: TestServer;
  let site: TestSite;
  let holder: TestCard;

  before(async () => {
    ts = await startLedgerServer({ delinquency: { graceDays: 5, guardianResponsible: true, blockLogins: true } });
    site = await registerTestSite(ts);
    holder = await cardWithLimit(ts, 100_000);
    const a = await approveFor(ts, holder, site, 7_000, 'Season pass');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    const d = new Date(`${todayIn(ts.config.billing.timeZone)}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() - 30);
    if (d.getUTCDate() > 28) d.setUTCDate(28);
    await ts.db('accounts').where({ id: holder.accountId }).update({ statement_day: d.getUTCDate() });
    await billingRun(ledgerOf(ts), { date: d.toISOString().slice(0, 10), cutoff: new Date() });
  });
  after(() => ts.stop());

  async function login(): Promise<{ agent: Agent; result: Awaited<ReturnType<typeof runLogin>>; state: string }> {
    const cfg = await siteClient(ts, site);
    const req = await authRequest(cfg, site);
    const agent = new Agent(ts.url);
    return { agent, result: await runLogin(agent, req.url, holder), state: req.state };
  }

  it('stops a plain login with its own page, audits it, and sends the site access_denied saying why', async () => {
    const { agent, result } = await login();
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.equal(403);
    expect(result.html).to.include('This card has an overdue statement');
    const audit = await ts.db('audit_log').where({ subject_id: holder.accountId, action: 'access.refused_overdue' });
    expect(audit).to.have.length(1);

    const uid = /\/interaction\/([^/]+)\/abort/.exec(result.html)![1]!;
    const back = await agent.post(`/interaction/${uid}/abort`, { csrf: csrfFrom(result.html) });
    const final = location(back, ts.url);
    expect(final.origin + final.pathname).to.equal(site.redirectUri);
    expect(final.searchParams.get('error')).to.equal('access_denied');
    expect(final.searchParams.get('error_description')).to.match(/^delinquent/);
    expect(final.searchParams.get('code')).to.equal(null);
  });

  it('lets the holder in again once a repayment clears the statement', async () => {
    await repay(ledgerOf(ts), { accountId: holder.accountId, amount: 7_000, currency: 'KRW', source: 'operator', actor: 'test' });
    const { result } = await login();
    expect(result.kind).to.equal('redirect');
  });
});
