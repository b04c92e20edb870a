import { expect } from 'chai';
import { down, up } from '../../migrations/20261206600001_settlement_chargebacks.ts';
import { capture } from '../../src/approvals/capture.ts';
import { decideDispute } from '../../src/approvals/decide-dispute.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { refund } from '../../src/approvals/refund.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, startLedgerServer } from '../ledger/fixtures.ts';

/**
 * The migration that tells chargebacks apart: a report upheld before it links to its refund entry (found by the
 * decision's transaction time), and a settlement closed before it keeps what it posted.
 */
describe('migration: chargebacks apart from refunds', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
    card = await cardWithLimit(ts, 1_000_000);
  });
  after(() => ts.stop());

  async function charged(amount: number) {
    const a = await approveFor(ts, card, site, amount);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    return a;
  }

  async function reported(approvalNo: string) {
    return openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo, reason: 'not_mine', details: '', actor: `card:${card.cardId}` },
    );
  }

  it('links each report upheld before it to its refund entry, and no site refund, rejected or unrefunded report', async () => {
    // A report upheld after the site refunded part of the payment itself: only the decision's entry is the chargeback.
    const upheld = await charged(5_000);
    const d1 = await reported(upheld.approvalNo);
    await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: upheld.approvalNo, amount: 700, actor: 'test' }));
    await decideDispute(ts, { disputeId: d1.id, decision: 'refund', amount: 3_000, note: null, actor: 'operator' });
    const rejected = await charged(2_000);
    const d2 = await reported(rejected.approvalNo);
    await decideDispute(ts, { disputeId: d2.id, decision: 'reject', note: 'Delivered.', actor: 'operator' });
    // Upheld with nothing left to refund: the site refunded all of it first.
    const empty = await charged(1_000);
    const d3 = await reported(empty.approvalNo);
    await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: empty.approvalNo, actor: 'test' }));
    await decideDispute(ts, { disputeId: d3.id, decision: 'refund', note: null, actor: 'operator' });
    const linked = async () => Object.fromEntries((await ts.db('disputes').select('id', 'refund_entry_id')).map((r) => [r.id, r.refund_entry_id]));
    const before = await linked();
    // The data this migration met: before entries were dated when written (clock_timestamp), a decision's refund entry
    // was dated at its transaction's start, the report's decided_at (journal entries cannot change: the report can).
    await ts.db('disputes')
      .where({ id: d1.id })
      .update({ decided_at: ts.db('journal_entries').select('created_at').where({ id: before[d1.id] }) });

    await down(ts.db);
    expect(await ts.db.schema.hasColumn('disputes', 'refund_entry_id')).to.equal(false);
    expect(await ts.db.schema.hasColumn('settlements', 'chargebacks')).to.equal(false);
    // A settlement closed before: the refunds it posted included the chargebacks.
    await ts.db('settlements').insert({ client_id: site.clientId, period_start: '2026-01-01', period_end: '2026-02-01', period_start_at: '2025-12-31T15:00:00Z', period_end_at: '2026-01-31T15:00:00Z', currency: 'KRW', captured: 9_000, refunds: 3_700, fee_basis_points: 250, fee: 133, payout: 5_167 });
    await up(ts.db);

    expect(await linked()).to.deep.equal(before);
    const chargeback = await ts.db('journal_entries').where({ id: before[d1.id] }).first();
    expect(chargeback).to.include({ kind: 'refund', approval_id: upheld.id });
    expect(Number((await ts.db('postings').where({ entry_id: chargeback.id }).where('amount', '>', 0).first()).amount)).to.equal(3_000);
    expect(before[d2.id]).to.equal(null);
    expect(before[d3.id]).to.equal(null);
    const row = await ts.db('settlements').where({ client_id: site.clientId }).first();
    expect([row.captured, row.refunds, row.chargebacks, row.fee, row.payout].map(Number)).to.deep.equal([9_000, 3_700, 0, 133, 5_167]);
  });

  it('refuses a settlement row whose payout is not captured − refunds − chargebacks − fee, and a link from a report not upheld', async () => {
    const bad = ts.db('settlements').insert({ client_id: site.clientId, period_start: '2026-02-01', period_end: '2026-03-01', period_start_at: '2026-01-31T15:00:00Z', period_end_at: '2026-02-28T15:00:00Z', currency: 'KRW', captured: 9_000, refunds: 700, chargebacks: 3_000, fee_basis_points: 250, fee: 133, payout: 8_167 });
    let err: unknown;
    try {
      await bad;
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/settlements_check/);
    const open = await reported((await charged(1_000)).approvalNo);
    const entry = await ts.db('journal_entries').where({ kind: 'capture' }).first();
    err = undefined;
    try {
      await ts.db('disputes').where({ id: open.id }).update({ refund_entry_id: entry.id });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/disputes_refund_entry_check/);
  });
});
