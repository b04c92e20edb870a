import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { refund } from '../../src/approvals/refund.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { normalizePaymentReference } from '../../src/ledger/payment-reference.ts';
import { repay } from '../../src/ledger/repay.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, operator, startLedgerServer } from './fixtures.ts';

describe('billing run', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Film Club' } as never);
    card = await cardWithLimit(ts, 100_000);
  });
  after(() => ts.stop());

  const sys = { actor: 'system:test' };

  it('closes a statement: opening balance, each charge with date, site, description and approval number, refunds, repayments, closing, due date', async () => {
    const ledger = ledgerOf(ts);
    const a = await approveFor(ts, card, site, 12_000, 'Episode 1');
    const b = await approveFor(ts, card, site, 3_000, 'Episode 2');
    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: a.approvalNo, amount: 10_000 }));
    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: b.approvalNo }));
    await inTransaction(ts.db, (trx) => refund(trx, { ...sys, approvalNo: a.approvalNo, amount: 1_500 }));
    await repay(ledger, { accountId: card.accountId, amount: 4_000, currency: 'KRW', source: 'operator', actor: 'test' });

    const run = await billingRun(ledger, { cutoff: new Date() });
    expect(run.statements).to.be.at.least(1);
    const s = await ts.db('statements').where({ account_id: card.accountId }).first();
    expect(Number(s.opening_balance)).to.equal(0);
    expect(Number(s.charges)).to.equal(13_000);
    expect(Number(s.refunds)).to.equal(1_500);
    expect(Number(s.repayments)).to.equal(4_000);
    expect(Number(s.closing_balance)).to.equal(7_500);
    const acct = await ts.db('accounts').where({ id: card.accountId }).first();
    expect(Number(acct.posted_balance)).to.equal(7_500);
    expect(normalizePaymentReference(s.payment_reference)).to.equal(acct.payment_reference);
    const due = new Date(`${s.statement_date}T00:00:00Z`);
    due.setUTCDate(due.getUTCDate() + ts.config.billing.dueDays);
    expect(s.due_date).to.equal(due.toISOString().slice(0, 10));

    const lines = await ts.db('statement_lines').where({ statement_id: s.id }).orderBy('id');
    const charges = lines.filter((l) => l.kind === 'charge');
    expect(charges.map((l) => [Number(l.amount), l.approval_no, l.description, l.site_name])).to.have.deep.members([
      [10_000, a.approvalNo, 'Episode 1', 'Film Club'],
      [3_000, b.approvalNo, 'Episode 2', 'Film Club'],
    ]);
    expect(charges.every((l) => l.booked_at instanceof Date)).to.equal(true);
    expect(lines.filter((l) => l.kind === 'refund').map((l) => Number(l.amount))).to.deep.equal([1_500]);
    expect(lines.filter((l) => l.kind === 'repayment').map((l) => Number(l.amount))).to.deep.equal([4_000]);
  });

  it('is idempotent: running again writes nothing, and the next period opens with the last closing balance', async () => {
    const ledger = ledgerOf(ts);
    const tz = ts.config.billing.timeZone;
    const today = todayIn(tz);
    // A first statement date about five days back (a statement day is 1–28), a second one today.
    const back = new Date(`${today}T12:00:00Z`);
    back.setUTCDate(back.getUTCDate() - 5);
    if (back.getUTCDate() > 28) back.setUTCDate(28);
    const firstDate = back.toISOString().slice(0, 10);
    const c = await cardWithLimit(ts, 50_000, { statement_day: back.getUTCDate() });
    const x = await approveFor(ts, c, site, 5_000, 'Album');
    const y = await approveFor(ts, c, site, 700, 'Single');
    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: x.approvalNo }));

    expect((await billingRun(ledger, { date: firstDate, cutoff: new Date() })).statements).to.be.at.least(1);
    const before = Number((await ts.db('statements').count({ n: '*' }).first())!.n);
    expect((await billingRun(ledger, { date: firstDate, cutoff: new Date() })).statements).to.equal(0);
    expect((await billingRun(ledger, { date: firstDate })).statements).to.equal(0);
    expect(Number((await ts.db('statements').count({ n: '*' }).first())!.n)).to.equal(before);

    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: y.approvalNo }));
    await ts.db('accounts').where({ id: c.accountId }).update({ statement_day: Math.min(Number(today.slice(8)), 28) });
    await billingRun(ledger, { cutoff: new Date() });
    const [first, second] = await ts.db('statements').where({ account_id: c.accountId }).orderBy('statement_date');
    expect(first.statement_date).to.equal(firstDate);
    expect(Number(first.closing_balance)).to.equal(5_000);
    expect(second, 'a second statement').to.not.equal(undefined);
    expect(Number(second.opening_balance)).to.equal(5_000);
    expect(Number(second.charges)).to.equal(700);
    expect(Number(second.closing_balance)).to.equal(5_700);
    expect(new Date(second.period_start).getTime()).to.equal(new Date(first.period_end).getTime());
  });

  it('keeps closed statements immutable in the database', async () => {
    const s = await ts.db('statements').where({ account_id: card.accountId }).first();
    for (const attempt of [
      () => ts.db('statements').where({ id: s.id }).update({ closing_balance: 0 }),
      () => ts.db('statements').where({ id: s.id }).delete(),
      () => ts.db('statement_lines').where({ statement_id: s.id }).update({ amount: 1 }),
      () => ts.db('statement_lines').where({ statement_id: s.id }).delete(),
    ]) {
      let err: unknown;
      try {
        await attempt();
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/append-only/);
    }
    const entry = await ts.db('journal_entries').insert({ kind: 'test', memo: 'late' }).returning('id');
    let late: unknown;
    try {
      await ts.db('statement_lines').insert({
        statement_id: s.id,
        entry_id: entry[0].id,
        kind: 'charge',
        booked_at: new Date(),
        amount: 1,
        description: 'slipped in',
      });
    } catch (e) {
      late = e;
    }
    expect(String(late)).to.match(/statement is closed/);
    let dup: unknown;
    try {
      await ts.db('statements').insert({ ...s, id: undefined, created_txid: undefined, created_at: undefined });
    } catch (e) {
      dup = e;
    }
    expect(String(dup)).to.match(/duplicate key|statements_account_id_statement_date_unique/);
  });

  it('refuses a date in the future, a cutoff in the future and nonsense dates', async () => {
    const ledger = ledgerOf(ts);
    const tomorrow = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
    for (const opts of [{ date: tomorrow }, { cutoff: new Date(Date.now() + 60_000) }]) {
      let err: unknown;
      try {
        await billingRun(ledger, opts);
      } catch (e) {
        err = e;
      }
      expect((err as { status?: number }).status, JSON.stringify(opts)).to.equal(400);
    }
    for (const body of [{ date: '2026-02-30' }, { date: 'yesterday' }, { date: 20261101 }, { when: '2026-11-01' }, { date: tomorrow }]) {
      const res = await operator(ts, 'POST', '/admin/api/ledger/billing-runs', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect((await operator(ts, 'POST', '/admin/api/ledger/billing-runs', {})).status).to.equal(200);
    const expired = await operator(ts, 'POST', '/admin/api/ledger/holds/expire');
    expect(expired.status).to.equal(200);
    expect(expired.json).to.have.property('released').that.is.a('number');
    const unauth = await fetch(`${ts.url}/admin/api/ledger/billing-runs`, { method: 'POST' });
    expect(unauth.status).to.equal(401);
  });

  it('writes one statement per account and period when two runs race', async () => {
    const ledger = ledgerOf(ts);
    const cards: TestCard[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await cardWithLimit(ts, 50_000);
      const a = await approveFor(ts, c, site, 1_000 + i);
      await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: a.approvalNo }));
      cards.push(c);
    }
    const cutoff = new Date();
    const [r1, r2] = await Promise.all([billingRun(ledger, { cutoff, batchSize: 2 }), billingRun(ledger, { cutoff, batchSize: 3 })]);
    expect(r1.statements + r2.statements).to.be.at.least(cards.length);
    for (const c of cards) {
      const rows = await ts.db('statements').where({ account_id: c.accountId });
      expect(rows, c.accountId).to.have.length(1);
      const lines = await ts.db('statement_lines').where({ statement_id: rows[0].id });
      expect(lines).to.have.length(1);
    }
    const dup = await ts.db.raw('SELECT account_id, statement_date FROM statements GROUP BY 1, 2 HAVING count(*) > 1');
    expect(dup.rows).to.deep.equal([]);
  });
});
