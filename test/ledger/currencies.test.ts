import { expect } from 'chai';
import { ledgerCommands } from '../../src/admin/ledger-cli.ts';
import { approve } from '../../src/approvals/approve.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { formatPaymentReference } from '../../src/ledger/payment-reference.ts';
import { feeFor } from '../../src/ledger/settlement.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approvalsOf, basicAuth, cardWithLimit, operator, startLedgerServer } from './fixtures.ts';

/**
 * A credit line is kept in the currency the deployment had when it was opened (config's currency may change later), so
 * one member site can be owed in two currencies in one month, and one bank file can repay lines in two. Nothing may add
 * KRW to USD: a sum of them is no amount of money, and a payout total so made pays nobody the right figure.
 */
describe('amounts in several currencies are never added together', () => {
  let ts: TestServer;
  let site: TestSite;
  let krw: TestCard;
  let usd: TestCard;
  let keyN = 0;

  async function capture(approvalNo: string) {
    const res = await fetch(`${ts.url}/api/approvals/${approvalNo}/capture`, {
      method: 'POST',
      headers: { authorization: basicAuth(site), 'idempotency-key': `cur-${++keyN}` },
    });
    expect(res.status, await res.clone().text()).to.equal(200);
  }

  /** A payment of `amount` approved on `card` in `currency` (the deployment's policy as it was then) and captured over HTTP. */
  async function paid(card: TestCard, amount: number, currency: string) {
    const deps = approvalsOf(ts);
    const a = await approve({ ...deps, policy: { ...deps.policy, currency } }, {
      accountId: card.accountId,
      cardId: card.cardId,
      clientId: site.clientId,
      amount,
      currency,
      description: `Item in ${currency}`,
      contentRef: null,
      rating: 0,
    });
    await capture(a.approvalNo);
    return a;
  }

  async function cli(args: string[]): Promise<string[]> {
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      await ledgerCommands[`${args[0]} ${args[1]}`]!({ config: ts.config, db: ts.db, args: args.slice(2) });
    } finally {
      console.log = log;
    }
    return out;
  }

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
    krw = await cardWithLimit(ts, 1_000_000);
    // A line opened while the deployment was in USD.
    usd = await cardWithLimit(ts, 1_000_000, { currency: 'USD' });
  });
  after(() => ts.stop());

  it("reports a month's settlement totals per currency, and none across them (API and CLI close)", async () => {
    await paid(krw, 50_000, 'KRW');
    await paid(usd, 1_999, 'USD');
    const month = todayIn(ts.config.billing.timeZone).slice(0, 7);

    const report = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${month}`);
    expect(report.status, report.text).to.equal(200);
    const sites = report.json.sites as Array<Record<string, unknown>>;
    expect(sites.map((s) => [s.currency, s.captured])).to.deep.equal([
      ['KRW', 50_000],
      ['USD', 1_999],
    ]);
    const fee = (net: number) => feeFor(net, ts.config.settlement.feeBasisPoints);
    expect(report.json.totals, 'no sum of KRW and USD').to.equal(null);
    expect(report.json.totals_by_currency).to.deep.equal({
      KRW: { captured: 50_000, refunds: 0, refund_count: 0, chargebacks: 0, chargeback_count: 0, fee: fee(50_000), payout: 50_000 - fee(50_000) },
      USD: { captured: 1_999, refunds: 0, refund_count: 0, chargebacks: 0, chargeback_count: 0, fee: fee(1_999), payout: 1_999 - fee(1_999) },
    });

    // The month as a closed one: its entries moved into last month (the ledger still adds up), then closed by the CLI.
    const mid = new Date(`${month}-15T03:00:00Z`);
    mid.setUTCMonth(mid.getUTCMonth() - 1);
    const lastMonth = mid.toISOString().slice(0, 7);
    await ts.db.transaction(async (trx) => {
      // The books are append-only (a trigger): only a test moves an entry in time, with the triggers off for it.
      await trx.raw('SET LOCAL session_replication_role = replica');
      const ids = trx('approvals').where({ client_id: site.clientId }).select('id');
      await trx('journal_entries').whereIn('approval_id', ids).update({ created_at: mid });
    });
    const out = await cli(['settlement', 'close', '--month', lastMonth]);
    expect(out).to.have.length(1);
    expect(out[0]).to.equal(
      `settlement ${lastMonth}: 2 sites closed now, 0 already closed; ` +
        `refunds 0 KRW (0), chargebacks 0 KRW (0), payouts ${(50_000 - fee(50_000)).toLocaleString('en-US')} KRW; ` +
        `refunds 0.00 USD (0), chargebacks 0.00 USD (0), payouts ${((1_999 - fee(1_999)) / 100).toFixed(2)} USD`,
    );
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });

  it("reports a bank file's applied amount per currency, and none across them (API and CLI import)", async () => {
    const ref = async (card: TestCard) => formatPaymentReference((await ts.db('accounts').where({ id: card.accountId }).first()).payment_reference as string);
    const today = todayIn(ts.config.billing.timeZone);
    const csv = ['transaction_id,date,amount,currency,reference', `CUR-1,${today},30000,KRW,${await ref(krw)}`, `CUR-2,${today},1500,USD,${await ref(usd)}`].join('\n');
    const res = await operator(ts, 'POST', '/admin/api/ledger/repayments/import', csv, { 'content-type': 'text/csv' });
    expect(res.status, res.text).to.equal(200);
    expect((res.json.applied as unknown[]).length).to.equal(2);
    expect(res.json.applied_amount, 'no sum of KRW and USD').to.equal(null);
    expect(res.json.applied_by_currency).to.deep.equal({ KRW: 30_000, USD: 1_500 });

    const file = `${ts.config.dataDir}/currencies-${process.pid}.csv`;
    const { writeFileSync, rmSync } = await import('node:fs');
    writeFileSync(file, csv.replace(/CUR-/g, 'CUR-CLI-'));
    try {
      const out = await cli(['repayments', 'import', '--file', file]);
      expect(out.at(-1)).to.equal('2 lines: 2 applied (30,000 KRW; 15.00 USD), 0 duplicates, 0 unmatched, 0 wrong currency, 0 conflicts, 0 malformed');
    } finally {
      rmSync(file, { force: true });
    }
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });
});
