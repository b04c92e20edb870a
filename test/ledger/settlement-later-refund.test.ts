import { expect } from 'chai';
import { todayIn } from '../../src/ledger/calendar.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { closeSettlement, feeFor } from '../../src/ledger/settlement.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { ledgerOf, startLedgerServer } from './fixtures.ts';
import { seedBillableAccounts, seedRefund } from './seed.ts';

/**
 * The rule README's Settlement states: a refund counts in the month it is made. A payment captured in one month (its
 * fee charged then) and refunded in full in a later month whose net is zero or less: that month pays no fee and gets
 * none back, so the first month's fee stays fee income. A policy, not money appearing or vanishing: every entry
 * balances, the site's payable ends at zero, and what the site paid in all is exactly the fee.
 */
describe("settlement: a later month's refund of an earlier month's payment, that month netting ≤ 0", function () {
  this.timeout(60_000);
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
  });
  after(() => ts?.stop());

  async function ledgerSum(kind: string, owner: string): Promise<number> {
    const r = (await ts.db('postings as p')
      .join('ledger_accounts as a', 'a.id', 'p.ledger_account_id')
      .where({ 'a.kind': kind, 'a.owner_id': owner })
      .sum({ s: 'p.amount' })
      .first()) as { s: string | number | null };
    return Number(r.s ?? 0);
  }

  it("keeps the first month's fee: the later month pays none and gets none back, and the books balance", async () => {
    const thisMonth = todayIn(ts.config.billing.timeZone).slice(0, 7);
    const monthsBack = (n: number) => {
      const d = new Date(`${thisMonth}-15T03:00:00Z`);
      d.setUTCMonth(d.getUTCMonth() - n);
      return d;
    };
    const [earlier, later] = [monthsBack(2), monthsBack(1)];
    await seedBillableAccounts(ts.db, { count: 1, clientId: site.clientId, statementDay: 1, openedAt: new Date(earlier.getTime() - 86400_000), chargedAt: earlier });
    const approval = (await ts.db('approvals').where({ client_id: site.clientId }).first()) as { id: string; amount: number };
    const amount = Number(approval.amount);
    const fee = feeFor(amount, 250);
    expect(fee).to.be.greaterThan(0);

    await closeSettlement(ledgerOf(ts), earlier.toISOString().slice(0, 7), 'test');
    await seedRefund(ts.db, { approvalId: approval.id, amount, at: later });
    await closeSettlement(ledgerOf(ts), later.toISOString().slice(0, 7), 'test');

    const rows = (await ts.db('settlements').where({ client_id: site.clientId }).orderBy('period_start')) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.captured, r.refunds, r.fee, r.payout].map(Number))).to.deep.equal([
      [amount, 0, fee, amount - fee],
      [0, amount, 0, -amount],
    ]);
    // The site was paid amount − fee, then owed amount back: it paid the fee, which the card manager keeps.
    expect(await ledgerSum('payable', site.clientId)).to.equal(0);
    expect(await ledgerSum('fee_income', '')).to.equal(-fee);
    expect(await ledgerSum('cash', '')).to.equal(fee);
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });
});
