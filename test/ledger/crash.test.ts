import { expect } from 'chai';
import { todayIn } from '../../src/ledger/calendar.ts';
import { registerTestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { startLedgerServer } from './fixtures.ts';
import { runCli } from './cli.ts';
import { seedBillableAccounts } from './seed.ts';

describe('billing run killed half-way (SIGKILL) and run again', function () {
  this.timeout(120_000);
  let ts: TestServer;
  const N = 400;

  before(async () => {
    ts = await startLedgerServer();
  });
  after(() => ts.stop());

  it('ends with exactly one statement per account and period, each with the right totals', async () => {
    const site = await registerTestSite(ts);
    const tz = ts.config.billing.timeZone;
    // A statement date three days back (a statement day is 1–28), activity well before it.
    const d = new Date(`${todayIn(tz)}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() - 3);
    if (d.getUTCDate() > 28) d.setUTCDate(28);
    const date = d.toISOString().slice(0, 10);
    const openedAt = new Date(d.getTime() - 20 * 86400_000);
    const chargedAt = new Date(d.getTime() - 10 * 86400_000);
    const { expected } = await seedBillableAccounts(ts.db, { count: N, clientId: site.clientId, statementDay: d.getUTCDate(), openedAt, chargedAt, chargesPerAccount: 2 });

    const url = ts.config.databaseUrl!;
    const first = await runCli(url, ['billing', 'run', '--date', date, '--batch', '4'], (line) => {
      const m = /^progress: (\d+) accounts scanned/.exec(line);
      return m !== null && Number(m[1]) >= 40;
    });
    expect(first.signal).to.equal('SIGKILL');
    const partial = Number((await ts.db('statements').count({ n: '*' }).first())!.n);
    expect(partial, 'statements written before the kill').to.be.at.least(40).and.below(N);

    const second = await runCli(url, ['billing', 'run', '--date', date, '--batch', '50']);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.match(/progress: \d+ accounts scanned/);
    expect(second.stdout).to.match(new RegExp(`billing run for ${date}: ${N - partial} statements closed`));

    const rows = await ts.db('statements').select('account_id', 'statement_date', 'opening_balance', 'charges', 'closing_balance', 'id');
    expect(rows).to.have.length(N);
    expect(new Set(rows.map((r) => r.account_id)).size).to.equal(N);
    for (const r of rows) {
      expect(r.statement_date).to.equal(date);
      expect(Number(r.opening_balance)).to.equal(0);
      expect(Number(r.charges)).to.equal(expected.get(r.account_id));
      expect(Number(r.closing_balance)).to.equal(expected.get(r.account_id));
    }
    const lines = await ts.db.raw('SELECT statement_id, count(*) AS n FROM statement_lines GROUP BY 1');
    expect(lines.rows).to.have.length(N);
    for (const l of lines.rows as Array<{ n: string }>) expect(Number(l.n)).to.equal(2);
    // A third run finds nothing left to do.
    const third = await runCli(url, ['billing', 'run', '--date', date]);
    expect(third.stdout).to.match(/: 0 statements closed/);
  });

  it('exits 1 with the message on stderr for a bad argument, changing nothing', async () => {
    const before = Number((await ts.db('statements').count({ n: '*' }).first())!.n);
    const r = await runCli(ts.config.databaseUrl!, ['billing', 'run', '--date', '2026-02-30']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/date: A real date/);
    expect(Number((await ts.db('statements').count({ n: '*' }).first())!.n)).to.equal(before);
  });
});
