import { expect } from 'chai';
import { down, up } from '../../migrations/20261208134629_settlement_entries.ts';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { shiftMonth, todayIn } from '../../src/ledger/calendar.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { registerTestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, startLedgerServer } from '../ledger/fixtures.ts';

/**
 * The migration that names the entries each settlement took: a settlement closed before it took the entries dated in
 * its month (billing.timeZone), and is linked to those; its month's bounds are kept as instants.
 */
describe('migration: settlement_entries', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startLedgerServer();
  });
  after(() => ts?.stop());

  it('links a settlement closed before it to the entries dated in its month, and keeps its bounds as instants', async () => {
    const site = await registerTestSite(ts);
    const card = await cardWithLimit(ts, 1_000_000);
    const ids: string[] = [];
    for (const amount of [3_000, 2_000]) {
      const a = await approveFor(ts, card, site, amount);
      await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
      ids.push(a.id);
    }
    const tz = ts.config.billing.timeZone;
    const month = todayIn(tz).slice(0, 7);
    await down(ts.db);
    expect(await ts.db.schema.hasTable('settlement_entries')).to.equal(false);
    // Closed before the migration, by date: this month's two captures (its figures are made up but add up).
    await ts.db('settlements').insert({
      client_id: site.clientId,
      period_start: `${month}-01`,
      period_end: `${shiftMonth(month, 1)}-01`,
      currency: 'KRW',
      captured: 5_000,
      refunds: 0,
      chargebacks: 0,
      fee_basis_points: 250,
      fee: 125,
      payout: 4_875,
    });
    await up(ts.db);

    const row = await ts.db('settlements').where({ client_id: site.clientId }).first();
    const bounds = (await ts.db.raw(`SELECT (?::date)::timestamp AT TIME ZONE ?::text AS s, (?::date)::timestamp AT TIME ZONE ?::text AS e`, [
      `${month}-01`,
      tz,
      `${shiftMonth(month, 1)}-01`,
      tz,
    ])) as { rows: Array<{ s: Date; e: Date }> };
    expect([new Date(row.period_start_at).toISOString(), new Date(row.period_end_at).toISOString()]).to.deep.equal([
      bounds.rows[0]!.s.toISOString(),
      bounds.rows[0]!.e.toISOString(),
    ]);
    const linked = await ts.db('settlement_entries as t').join('journal_entries as e', 'e.id', 't.entry_id').where('t.settlement_id', row.id).select('e.kind', 'e.approval_id');
    expect(linked.map((l) => [l.kind, l.approval_id])).to.have.deep.members(ids.map((id) => ['capture', id]));
    expect((await checkLedger(ts.db)).counts).to.not.have.property('site_entry_unsettled');
    let err: unknown;
    try {
      await ts.db('settlement_entries').where('settlement_id', row.id).del();
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/append-only/);
  });
});
