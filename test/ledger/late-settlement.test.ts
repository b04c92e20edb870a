import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { capture } from '../../src/approvals/capture.ts';
import type { Trx } from '../../src/db/knex.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { shiftMonth, todayIn } from '../../src/ledger/calendar.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import type { LedgerDeps } from '../../src/ledger/deps.ts';
import { closeSettlement, settlementReport } from '../../src/ledger/settlement.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, startLedgerServer } from './fixtures.ts';
import { seedBillableAccounts } from './seed.ts';

const DAY = 86_400_000;

/**
 * A site's capture still open (its transaction not committed) while its month's settlement closes: on two real
 * connections, one holding the uncommitted capture, dated in the month, the other closing the month. Nothing locks the
 * site, so the close does not wait: the capture must go into the next month's settlement, listed as late, and the site
 * be paid it exactly once. Settlement goes by a clock `days` ahead, so the month the entries are dated in is over.
 */
describe('a site entry committed after its month was settled goes into the next settlement', function () {
  this.timeout(60_000);
  let ts: TestServer;
  let site: TestSite;
  let month: string;
  const sys = { actor: 'system:test' };
  /** Ledger deps whose clock is `days` ahead: 32 days on, the month of today is over; 63 days on, the next one too. */
  const ahead = (days: number): LedgerDeps => ({ ...ledgerOf(ts), now: () => new Date(Date.now() + days * DAY) });

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Late Site' } as never);
    month = todayIn(ts.config.billing.timeZone).slice(0, 7);
  });
  after(() => ts?.stop());

  /** What the site's payable holds now (negative: what the card manager still owes it), and what its settlements paid. */
  async function siteBooks() {
    const payable = (await ts.db('postings as p')
      .join('ledger_accounts as la', 'la.id', 'p.ledger_account_id')
      .where({ 'la.kind': 'payable', 'la.owner_id': site.clientId })
      .sum({ s: 'p.amount' })
      .first()) as { s: string | null };
    const settled = (await ts.db('settlements').where({ client_id: site.clientId }).select('period_start', 'captured', 'fee', 'payout').orderBy('period_start')) as Array<Record<string, unknown>>;
    return { payable: Number(payable.s ?? 0), settled: settled.map((s) => ({ captured: Number(s.captured), fee: Number(s.fee), payout: Number(s.payout) })) };
  }

  it('a capture open while the month closes is taken by the next month’s settlement, as late, and paid once', async () => {
    const card = await cardWithLimit(ts, 1_000_000);
    const first = await approveFor(ts, card, site, 10_000, 'On time');
    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: first.approvalNo }));
    const late = await approveFor(ts, card, site, 4_000, 'Late');
    const holding: Trx = await ts.db.transaction();
    try {
      // Captured on this connection, dated now (in `month`), not committed while the month is settled on another.
      await capture(holding, { ...sys, approvalNo: late.approvalNo });
      await sleep(20);
      const closed = await closeSettlement(ahead(32), month, 'operator:test');
      expect(closed.closed).to.equal(1);
      expect(closed.report.sites.map((s) => [s.captured, s.late_count, s.payout])).to.deep.equal([[10_000, 0, 9_750]]);
      await holding.commit();
    } finally {
      if (!holding.isCompleted()) await holding.rollback();
    }
    // Dated in the settled month and taken by no settlement yet: waiting for the next one, which is no fault.
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
    expect((await settlementReport(ahead(32), month)).sites.map((s) => [s.captured, s.closed])).to.deep.equal([[10_000, true]]);

    const next = shiftMonth(month, 1);
    const preview = await settlementReport(ahead(32), next);
    expect(preview.sites.map((s) => [s.captured, s.late_count, s.late_net, s.closed])).to.deep.equal([[4_000, 1, 4_000, false]]);
    const done = await closeSettlement(ahead(63), next, 'operator:test');
    expect(done.closed).to.equal(1);
    expect(done.report.sites.map((s) => [s.captured, s.late_count, s.late_net, s.fee, s.payout, s.closed])).to.deep.equal([[4_000, 1, 4_000, 100, 3_900, true]]);
    // Paid once: the payable is back to zero, and the two settlements together discharged both captures.
    const books = await siteBooks();
    expect(books.payable).to.equal(0);
    expect(books.settled).to.deep.equal([
      { captured: 10_000, fee: 250, payout: 9_750 },
      { captured: 4_000, fee: 100, payout: 3_900 },
    ]);
    expect((await closeSettlement(ahead(63), next, 'operator:test')).closed).to.equal(0);
    expect((await closeSettlement(ahead(63), month, 'operator:test')).closed).to.equal(0);
    expect((await siteBooks()).payable).to.equal(0);
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });

  it('ledger check flags a site entry dated in a settled month that no settlement took, until one takes it', async () => {
    const other = await registerTestSite(ts, { name: 'Forgotten Site' } as never);
    // An entry made by hand, dated 20 days before the first settled month began: no settlement took it.
    const at = new Date(Date.parse(`${month}-01T00:00:00Z`) - 20 * DAY);
    await seedBillableAccounts(ts.db, { count: 1, clientId: other.clientId, statementDay: 1, openedAt: new Date(at.getTime() - DAY), chargedAt: at });
    const entry = (await ts.db('journal_entries as e')
      .join('postings as p', 'p.entry_id', 'e.id')
      .join('ledger_accounts as la', 'la.id', 'p.ledger_account_id')
      .where({ 'la.kind': 'payable', 'la.owner_id': other.clientId })
      .select('e.id', 'p.amount')
      .first()) as { id: string; amount: string };
    const check = await checkLedger(ts.db);
    expect(check.findings).to.deep.equal([
      {
        check: 'site_entry_unsettled',
        subject: String(entry.id),
        figures: { client_id: other.clientId, currency: 'KRW', kind: 'capture', payable: Number(entry.amount), dated: at.toISOString() },
      },
    ]);
    expect(check.counts).to.deep.equal({ site_entry_unsettled: 1 });
    // The next settlement carries it forward, and the books are whole again.
    const later = shiftMonth(month, 2);
    const done = await closeSettlement(ahead(95), later, 'operator:test');
    expect(done.report.sites.map((s) => [s.client_id, s.captured, s.late_count])).to.deep.equal([[other.clientId, -Number(entry.amount), 1]]);
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });
});
