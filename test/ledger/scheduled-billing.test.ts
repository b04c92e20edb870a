import { expect } from 'chai';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { ledgerDeps } from '../../src/ledger/deps.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/db.ts';
import { registerTestSite } from '../helpers/fixtures.ts';
import { startCardManager } from '../helpers/server.ts';
import { seedBillableAccounts } from './seed.ts';

/** `date` moved by `days` (YYYY-MM-DD), clamped to a statement day (1–28). */
function daysBack(date: string, days: number): Date {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  if (d.getUTCDate() > 28) d.setUTCDate(28);
  return d;
}

/**
 * Issue 5: the billing run is scheduled inside the server as well as run by hand, with the delinquency sweep after
 * it. The server's own run (billing.runIntervalSeconds) must close due statements and flag an overdue account,
 * with no one calling anything.
 */
describe('billing run scheduled inside the server (billing.runIntervalSeconds)', function () {
  this.timeout(60_000);
  let databaseUrl: string;

  before(async () => {
    databaseUrl = await createTestDatabase('cybercard_ledger');
  });
  after(async () => {
    if (process.env.KEEP_TEST_DB !== '1') await dropTestDatabase(databaseUrl);
  });

  it('closes each due account’s statement and flags an account overdue, by itself', async () => {
    // First with the jobs off: the accounts, and one statement closed by hand long enough ago to be overdue now.
    const quiet = await startCardManager({ databaseUrl });
    const tz = quiet.config.billing.timeZone;
    const today = todayIn(tz);
    const site = await registerTestSite(quiet);
    /** `count` accounts whose statement falls on `day`, opened 40 and charged 20 days before it. */
    const dueOn = (day: Date, count: number) =>
      seedBillableAccounts(quiet.db, {
        count,
        clientId: site.clientId,
        statementDay: day.getUTCDate(),
        openedAt: new Date(day.getTime() - 40 * 86_400_000),
        chargedAt: new Date(day.getTime() - 20 * 86_400_000),
      });
    const fresh = await dueOn(daysBack(today, 0), 3);
    const back = daysBack(today, 30);
    const late = await dueOn(back, 1);
    await billingRun(ledgerDeps(quiet.config, quiet.db), { date: back.toISOString().slice(0, 10) });
    // Nothing but the hand run closed anything, and no one flagged the late account.
    expect(await quiet.db('statements').whereIn('account_id', fresh.accountIds)).to.have.length(0);
    // The seed answers every seeded account in the database: the late one is the one not seeded before.
    const lateId = late.accountIds.find((id) => !fresh.accountIds.includes(id))!;
    expect((await quiet.db('accounts').where({ id: lateId }).first()).delinquent_since).to.equal(null);
    await quiet.stop();

    const busy = await startCardManager({ databaseUrl, billing: { runIntervalSeconds: 1 } });
    try {
      const deadline = Date.now() + 20_000;
      let closed = 0;
      let flagged = false;
      while (Date.now() < deadline) {
        closed = (await busy.db('statements').whereIn('account_id', fresh.accountIds)).length;
        flagged = (await busy.db('accounts').where({ id: lateId }).first()).delinquent_since !== null;
        if (closed === fresh.accountIds.length && flagged) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(closed, 'statements the server closed').to.equal(fresh.accountIds.length);
      for (const id of fresh.accountIds) {
        const [s] = await busy.db('statements').where({ account_id: id });
        expect(Number(s.charges)).to.equal(fresh.expected.get(id));
        expect(Number(s.closing_balance)).to.equal(fresh.expected.get(id));
      }
      expect(flagged, 'overdue account flagged by the sweep after the run').to.equal(true);
    } finally {
      await busy.stop();
    }
  });
});
