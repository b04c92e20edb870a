import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { capture } from '../../src/approvals/capture.ts';
import type { Trx } from '../../src/db/knex.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, plusDays, startLedgerServer } from './fixtures.ts';

/**
 * A posting still open (its transaction not committed) while its period's statement closes: on two real connections,
 * one holding the uncommitted capture, the other running the billing run. The entry must end up on exactly one
 * statement, and the books must add up (ledger check), however the two interleave.
 */
describe('a posting open while its statement closes is never left off every statement', function () {
  this.timeout(60_000);
  let ts: TestServer;
  let site: TestSite;
  const sys = { actor: 'system:test' };

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts, { name: 'Late Club' } as never);
  });
  after(() => ts?.stop());

  /** A card with 1,000 KRW captured (so its period has a statement) and `amount` approved, not yet captured. */
  async function cardWithOpenApproval(amount: number, statementDay?: number): Promise<{ card: TestCard; approvalNo: string }> {
    const card = await cardWithLimit(ts, 1_000_000, statementDay === undefined ? {} : { statement_day: statementDay });
    const first = await approveFor(ts, card, site, 1_000, 'First');
    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: first.approvalNo }));
    const open = await approveFor(ts, card, site, amount, 'Late');
    return { card, approvalNo: open.approvalNo };
  }

  /** Another connection of this database waiting for a row lock (pg_stat_activity), i.e. the billing run blocked. */
  async function someoneWaitsForALock(): Promise<boolean> {
    const r = (await ts.db.raw(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
    )) as { rows: Array<{ n: string }> };
    return Number(r.rows[0]!.n) > 0;
  }

  async function statementsOf(card: TestCard) {
    const rows = (await ts.db('statements').where({ account_id: card.accountId }).orderBy('statement_date')) as Array<Record<string, unknown>>;
    const out = [];
    for (const s of rows) {
      const lines = (await ts.db('statement_lines').where({ statement_id: s.id }).orderBy('id')) as Array<Record<string, unknown>>;
      out.push({ charges: Number(s.charges), closing: Number(s.closing_balance), lines: lines.map((l) => `${l.kind} ${Number(l.amount)}`) });
    }
    return out;
  }

  it('the statement closing waits for a capture that holds the account while it runs, and bills it', async () => {
    const { card, approvalNo } = await cardWithOpenApproval(5_000);
    const holding: Trx = await ts.db.transaction();
    let run: Promise<unknown> | undefined;
    try {
      // Captured on this connection, not committed: the account row is locked, the entry dated in the period.
      await capture(holding, { ...sys, approvalNo });
      await sleep(20);
      const cutoff = new Date();
      let ran = false;
      run = billingRun(ledgerOf(ts), { cutoff }).finally(() => (ran = true));
      for (let i = 0; i < 250 && !ran && !(await someoneWaitsForALock()); i++) await sleep(20);
      expect(ran, 'the billing run finished while a capture of the period was still open').to.equal(false);
      await holding.commit();
      await run;
    } finally {
      if (!holding.isCompleted()) await holding.rollback();
      await run?.catch(() => undefined);
    }
    expect(await statementsOf(card)).to.deep.equal([{ charges: 6_000, closing: 6_000, lines: ['charge 1000', 'charge 5000'] }]);
    const check = await checkLedger(ts.db);
    expect(check.findings).to.deep.equal([]);
  });

  it('a capture whose transaction began before the period ended but writes after its statement closed goes on the next statement', async () => {
    // Statements on the 1st: a run dated the day before this month's 1st closes one, a run today the next.
    const { card, approvalNo } = await cardWithOpenApproval(3_000, 1);
    const thisMonthsFirst = `${todayIn(ts.config.billing.timeZone).slice(0, 7)}-01`;
    const holding: Trx = await ts.db.transaction();
    try {
      // The transaction begins (now() is fixed at its start, before the period's end) and goes on working.
      await holding.raw('SELECT now()');
      await sleep(20);
      await billingRun(ledgerOf(ts), { date: plusDays(thisMonthsFirst, -1), cutoff: new Date() });
      expect(await statementsOf(card)).to.deep.equal([{ charges: 1_000, closing: 1_000, lines: ['charge 1000'] }]);
      // Only now does it lock the account and post, and commits.
      await capture(holding, { ...sys, approvalNo });
      await holding.commit();
    } finally {
      if (!holding.isCompleted()) await holding.rollback();
    }
    // The closed statement is right as it is: the capture belongs to the period running when it was written.
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
    await sleep(20);
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    expect(await statementsOf(card)).to.deep.equal([
      { charges: 1_000, closing: 1_000, lines: ['charge 1000'] },
      { charges: 3_000, closing: 4_000, lines: ['charge 3000'] },
    ]);
    expect((await checkLedger(ts.db)).findings).to.deep.equal([]);
  });
});
