import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { refund } from '../../src/approvals/refund.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { ledgerCommands } from '../../src/admin/ledger-cli.ts';
import { feeFor } from '../../src/ledger/settlement.ts';
import { formatMoney } from '../../src/lib/money.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, basicAuth, cardWithLimit, operator, startLedgerServer, unbalancedEntries } from './fixtures.ts';
import { seedBillableAccounts, seedRefund } from './seed.ts';

describe('member-site settlement', () => {
  let ts: TestServer;
  let site: TestSite;
  let thisMonth: string;
  let lastMonth: string;
  let seededTotal = 0;
  /** Last month's refunds of seeded payments: the site's own, and a holder's report the operator upheld. */
  const seededRefund = 600;
  const seededChargeback = 700;

  /** The holder's report of an approval, decided by the operator through the operator API. */
  async function reportDecided(card: TestCard, approvalNo: string, decision: Record<string, unknown>) {
    const d = await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo, reason: 'not_received', details: 'Never arrived', actor: `card:${card.cardId}` },
    );
    const res = await operator(ts, 'POST', `/admin/api/disputes/${d.id}/decision`, decision);
    expect(res.status, res.text).to.equal(200);
    return d.id;
  }

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Music, "Live"' } as never);
    const card = await cardWithLimit(ts, 1_000_000);
    // This month: 43,001 captured; the site refunds 2,500 and 500 of two payments; the operator upholds the holder's
    // report of a third (4,000 of its 6,000 back) and rejects the report of a fourth (nothing moves).
    for (const amount of [10_000, 20_001, 6_000, 7_000]) {
      const a = await approveFor(ts, card, site, amount);
      await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
      if (amount === 10_000) await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: a.approvalNo, amount: 2_500, actor: 'test' }));
      if (amount === 20_001) await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: a.approvalNo, amount: 500, actor: 'test' }));
      if (amount === 6_000) await reportDecided(card, a.approvalNo, { decision: 'refund', amount: 4_000 });
      if (amount === 7_000) await reportDecided(card, a.approvalNo, { decision: 'reject', note: 'The site shows it delivered.' });
    }
    const today = todayIn(ts.config.billing.timeZone);
    thisMonth = today.slice(0, 7);
    const mid = new Date(`${thisMonth}-15T03:00:00Z`);
    mid.setUTCMonth(mid.getUTCMonth() - 1);
    lastMonth = mid.toISOString().slice(0, 7);
    const { expected } = await seedBillableAccounts(ts.db, {
      count: 3,
      clientId: site.clientId,
      statementDay: 1,
      openedAt: new Date(mid.getTime() - 86400_000),
      chargedAt: mid,
    });
    seededTotal = [...expected.values()].reduce((a, b) => a + b, 0);
    const [first, second] = (await ts.db('approvals').where({ client_id: site.clientId }).where('approval_no', 'like', 'S%').orderBy('approval_no').select('id')) as Array<{ id: string }>;
    const later = new Date(mid.getTime() + 3600_000);
    await seedRefund(ts.db, { approvalId: first!.id, amount: seededRefund, at: later });
    await seedRefund(ts.db, { approvalId: second!.id, amount: seededChargeback, at: later, dispute: true });
  });
  after(() => ts.stop());

  it('computes the fee in whole minor units, rounding half up, never on a zero or negative net', () => {
    const cases: Array<[number, number, number]> = [
      [0, 250, 0],
      [-5_000, 250, 0],
      [1_000, 250, 25],
      [20, 250, 1],
      [19, 250, 0],
      [10_001, 250, 250],
      [27_501, 250, 688],
      [1_000_000_000_000, 10_000, 1_000_000_000_000],
      [999_999_999_999, 9_999, 999_899_999_999],
      [5_000, 0, 0],
    ];
    for (const [net, bps, fee] of cases) expect(feeFor(net, bps), `${net} @ ${bps}`).to.equal(fee);
  });

  it('reports the month so far per site as JSON and CSV: captured − refunds − chargebacks − fee = payout', async () => {
    const res = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}`);
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ month: thisMonth, complete: false });
    const [line] = res.json.sites as Array<Record<string, unknown>>;
    // The fee is on the net after chargebacks: (43,001 − 3,000 − 4,000) × 2.5% = 900.025 → 900.
    expect(line).to.deep.equal({
      client_id: site.clientId,
      site_name: 'Music, "Live"',
      currency: 'KRW',
      captured: 43_001,
      refunds: 3_000,
      refund_count: 2,
      chargebacks: 4_000,
      chargeback_count: 1,
      net: 36_001,
      fee_basis_points: 250,
      fee: 900,
      payout: 35_101,
      late_count: 0,
      late_net: 0,
      closed: false,
    });
    expect(res.json.totals).to.deep.equal({ captured: 43_001, refunds: 3_000, refund_count: 2, chargebacks: 4_000, chargeback_count: 1, fee: 900, payout: 35_101 });
    const csv = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}&format=csv`);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    expect(csv.text.split('\r\n')).to.deep.equal([
      'month,client_id,site_name,currency,captured,refunds,refund_count,chargebacks,chargeback_count,net,fee_basis_points,fee,payout,late_count,late_net,closed',
      `${thisMonth},${site.clientId},"Music, ""Live""",KRW,43001,3000,2,4000,1,36001,250,900,35101,0,0,false`,
      '',
    ]);
    const accepted = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}`, undefined, { accept: 'text/csv' });
    expect(accepted.text).to.equal(csv.text);
    const early = await operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month: thisMonth });
    expect(early.status).to.equal(400);
    expect(await ts.db('settlements').count({ n: '*' }).first()).to.deep.equal({ n: 0 });
  });

  it('counts a refund the operator gave on a report as a chargeback, and the site’s own refund of a reported payment as the site’s', async () => {
    const card = await cardWithLimit(ts, 1_000_000);
    const other = await registerTestSite(ts, { name: 'Other' } as never);
    const a = await approveFor(ts, card, other, 9_000);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
    const d = await openDispute(
      { db: ts.db, windowDays: ts.config.payments.disputeDays },
      { accountId: card.accountId, cardId: card.cardId, approvalNo: a.approvalNo, reason: 'wrong_amount', details: '', actor: `card:${card.cardId}` },
    );
    // The site refunds part of the reported payment itself before the operator upholds the report for the rest.
    await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: a.approvalNo, amount: 1_000, actor: 'test' }));
    expect((await operator(ts, 'POST', `/admin/api/disputes/${d.id}/decision`, { decision: 'refund' })).status).to.equal(200);
    const res = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}`);
    const line = (res.json.sites as Array<Record<string, unknown>>).find((s) => s.client_id === other.clientId);
    expect(line).to.include({ captured: 9_000, refunds: 1_000, refund_count: 1, chargebacks: 8_000, chargeback_count: 1, net: 0, fee: 0, payout: 0 });
    expect(res.json.totals).to.include({ captured: 52_001, refunds: 4_000, refund_count: 3, chargebacks: 12_000, chargeback_count: 2, fee: 900, payout: 35_101 });
    const row = await ts.db('disputes').where({ id: d.id }).first();
    expect(await ts.db('journal_entries').where({ id: row.refund_entry_id }).first()).to.include({ kind: 'refund', approval_id: a.id });
  });

  it('closes a finished month once: a settlement row with its chargebacks and a balanced entry (payable, fee income, cash)', async () => {
    const net = seededTotal - seededRefund - seededChargeback;
    const fee = feeFor(net, 250);
    const first = await operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month: lastMonth });
    expect(first.status).to.equal(200);
    expect(first.json).to.include({ closed: 1, already_closed: 0 });
    const row = await ts.db('settlements').where({ client_id: site.clientId }).first();
    expect([row.captured, row.refunds, row.chargebacks, row.fee, row.payout].map(Number)).to.deep.equal([seededTotal, seededRefund, seededChargeback, fee, net - fee]);
    // The site's payable for the month is discharged: what it captured, less both kinds of refund.
    const legs = await ts.db('postings as p').join('ledger_accounts as a', 'a.id', 'p.ledger_account_id').where('p.entry_id', row.entry_id).select('a.kind', 'p.amount');
    expect(legs.map((l) => [l.kind, Number(l.amount)])).to.have.deep.members([
      ['payable', net],
      ['fee_income', -fee],
      ['cash', -(net - fee)],
    ]);
    const audit = await ts.db('audit_log').where({ action: 'settlement.closed', subject_id: site.clientId }).first();
    expect(audit.details).to.include({ month: lastMonth, captured: seededTotal, refunds: seededRefund, chargebacks: seededChargeback, fee, payout: net - fee });
    const again = await operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month: lastMonth });
    expect(again.json).to.include({ closed: 0, already_closed: 1 });
    expect(await ts.db('settlements').count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    const report = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${lastMonth}`);
    expect((report.json.sites as Array<Record<string, unknown>>)[0]).to.include({
      closed: true,
      refunds: seededRefund,
      refund_count: 1,
      chargebacks: seededChargeback,
      chargeback_count: 1,
      payout: net - fee,
    });
    expect(first.json.report).to.deep.equal(report.json);
    expect(await unbalancedEntries(ts)).to.equal(0);
    let err: unknown;
    try {
      await ts.db('settlements').update({ payout: 0 });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/append-only/);
  });

  it("answers a site its own line of a closed month (GET /api/settlements/:month), as the operator's report has it", async () => {
    const report = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${lastMonth}`);
    const { client_id: _id, site_name: _name, ...line } = (report.json.sites as Array<Record<string, unknown>>)[0]!;
    expect(line).to.include({ closed: true });
    const res = await fetch(`${ts.url}/api/settlements/${lastMonth}`, { headers: { authorization: basicAuth(site) } });
    expect(res.status).to.equal(200);
    const own = (await res.json()) as Record<string, unknown>;
    const { sites: _sites, totals: _totals, totals_by_currency: _byCurrency, ...period } = report.json;
    expect(own).to.deep.equal({ ...period, client_id: site.clientId, lines: [line] });
  });

  it('answers the CLI as the API: the report with chargebacks apart, and what a close (here, again) did', async () => {
    const run = (args: string[]) => ledgerCommands[`${args[0]} ${args[1]}`]!({ config: ts.config, db: ts.db, args: args.slice(2) });
    const out: string[] = [];
    const [log, write] = [console.log, process.stdout.write];
    console.log = (...a: unknown[]) => void out.push(`${a.join(' ')}\n`);
    process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
    try {
      await run(['settlement', 'report', '--month', thisMonth, '--format', 'csv']);
      await run(['settlement', 'close', '--month', lastMonth]);
    } finally {
      [console.log, process.stdout.write] = [log, write];
    }
    expect(out[0]).to.equal((await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}&format=csv`)).text);
    const net = seededTotal - seededRefund - seededChargeback;
    expect(out[1]).to.equal(
      `settlement ${lastMonth}: 0 sites closed now, 1 already closed; refunds 600 KRW (1), chargebacks 700 KRW (1), payouts ${formatMoney(net - feeFor(net, 250), 'KRW')}\n`,
    );
  });

  it('refuses bad months, formats and bodies with 400', async () => {
    for (const q of ['', 'month=2026-13', 'month=26-11', 'month=2026-11-01', `month=${thisMonth}&format=xml`, `month=${thisMonth}&extra=1`, `month=${thisMonth}&month=${thisMonth}`]) {
      expect((await operator(ts, 'GET', `/admin/api/ledger/settlements?${q}`)).status, q).to.equal(400);
    }
    for (const body of [{}, { month: 'November' }, { month: 202611 }, { month: lastMonth, more: 1 }]) {
      expect((await operator(ts, 'POST', '/admin/api/ledger/settlements/close', body)).status, JSON.stringify(body)).to.equal(400);
    }
    expect((await fetch(`${ts.url}/admin/api/ledger/settlements?month=${thisMonth}`)).status).to.equal(401);
  });
});
