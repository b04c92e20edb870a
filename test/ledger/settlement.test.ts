import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { refund } from '../../src/approvals/refund.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { feeFor } from '../../src/ledger/settlement.ts';
import { registerTestSite, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, operator, startLedgerServer, unbalancedEntries } from './fixtures.ts';
import { seedBillableAccounts } from './seed.ts';

describe('member-site settlement', () => {
  let ts: TestServer;
  let site: TestSite;
  let thisMonth: string;
  let lastMonth: string;
  let seededTotal = 0;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Music, "Live"' } as never);
    const card = await cardWithLimit(ts, 1_000_000);
    for (const amount of [10_000, 20_001]) {
      const a = await approveFor(ts, card, site, amount);
      await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
      if (amount === 10_000) await inTransaction(ts.db, (trx) => refund(trx, { approvalNo: a.approvalNo, amount: 2_500, actor: 'test' }));
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

  it('reports the month so far per site as JSON and CSV: captured − refunds − fee = payout', async () => {
    const res = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}`);
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ month: thisMonth, complete: false });
    const [line] = res.json.sites as Array<Record<string, unknown>>;
    expect(line).to.include({ client_id: site.clientId, captured: 30_001, refunds: 2_500, net: 27_501, fee_basis_points: 250, fee: 688, payout: 26_813, closed: false });
    const csv = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}&format=csv`);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    expect(csv.text.split('\r\n')).to.deep.equal([
      'month,client_id,site_name,currency,captured,refunds,net,fee_basis_points,fee,payout,closed',
      `${thisMonth},${site.clientId},"Music, ""Live""",KRW,30001,2500,27501,250,688,26813,false`,
      '',
    ]);
    const accepted = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${thisMonth}`, undefined, { accept: 'text/csv' });
    expect(accepted.text).to.equal(csv.text);
    const early = await operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month: thisMonth });
    expect(early.status).to.equal(400);
    expect(await ts.db('settlements').count({ n: '*' }).first()).to.deep.equal({ n: 0 });
  });

  it('closes a finished month once: a settlement row and a balanced entry (payable, fee income, cash)', async () => {
    const fee = feeFor(seededTotal, 250);
    const first = await operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month: lastMonth });
    expect(first.status).to.equal(200);
    expect(first.json).to.include({ closed: 1, already_closed: 0 });
    const row = await ts.db('settlements').where({ client_id: site.clientId }).first();
    expect(Number(row.captured)).to.equal(seededTotal);
    expect(Number(row.fee)).to.equal(fee);
    expect(Number(row.payout)).to.equal(seededTotal - fee);
    const legs = await ts.db('postings as p').join('ledger_accounts as a', 'a.id', 'p.ledger_account_id').where('p.entry_id', row.entry_id).select('a.kind', 'p.amount');
    expect(legs.map((l) => [l.kind, Number(l.amount)])).to.have.deep.members([
      ['payable', seededTotal],
      ['fee_income', -fee],
      ['cash', -(seededTotal - fee)],
    ]);
    const again = await operator(ts, 'POST', '/admin/api/ledger/settlements/close', { month: lastMonth });
    expect(again.json).to.include({ closed: 0, already_closed: 1 });
    expect(await ts.db('settlements').count({ n: '*' }).first()).to.deep.equal({ n: 1 });
    const report = await operator(ts, 'GET', `/admin/api/ledger/settlements?month=${lastMonth}`);
    expect((report.json.sites as Array<Record<string, unknown>>)[0]).to.include({ closed: true, payout: seededTotal - fee });
    expect(await unbalancedEntries(ts)).to.equal(0);
    let err: unknown;
    try {
      await ts.db('settlements').update({ payout: 0 });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/append-only/);
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
