import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { refund } from '../../src/approvals/refund.ts';
import { voidApproval } from '../../src/approvals/void.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { repay } from '../../src/ledger/repay.ts';
import { closeSettlement } from '../../src/ledger/settlement.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { runCli } from './cli.ts';
import { approveFor, cardWithLimit, ledgerOf, operator, startLedgerServer } from './fixtures.ts';
import { seedBillableAccounts } from './seed.ts';

interface Finding {
  check: string;
  subject: string;
  figures: Record<string, number | string>;
}

/** `ledger check` and GET /admin/api/ledger/check: the books read back, on a database of their own (it is tampered with). */
describe('checking that the books add up (ledger check, GET /admin/api/ledger/check)', function () {
  this.timeout(120_000);
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let capturedNo: string;

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
    card = await cardWithLimit(ts, 1_000_000);
    const sys = { actor: 'test' };
    await approveFor(ts, card, site, 4_000, 'still held');
    const captured = await approveFor(ts, card, site, 10_000, 'captured, part refunded');
    capturedNo = captured.approvalNo;
    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: captured.approvalNo }));
    await inTransaction(ts.db, (trx) => refund(trx, { ...sys, approvalNo: captured.approvalNo, amount: 2_500 }));
    const part = await approveFor(ts, card, site, 6_000, 'part captured, rest voided');
    await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: part.approvalNo, amount: 1_000 }));
    await inTransaction(ts.db, (trx) => voidApproval(trx, { ...sys, approvalNo: part.approvalNo }));
    await repay(ledgerOf(ts), { accountId: card.accountId, amount: 3_000, currency: 'KRW', source: 'operator', actor: 'test' });
    // Last month's captures, billed and settled: statements and a settlement entry to check too.
    const mid = new Date(`${todayIn(ts.config.billing.timeZone).slice(0, 7)}-15T03:00:00Z`);
    mid.setUTCMonth(mid.getUTCMonth() - 1);
    await seedBillableAccounts(ts.db, { count: 3, clientId: site.clientId, statementDay: 1, openedAt: new Date(mid.getTime() - 86400_000), chargedAt: mid });
    await billingRun(ledgerOf(ts), { cutoff: new Date() });
    await closeSettlement(ledgerOf(ts), mid.toISOString().slice(0, 7), 'test');
  });
  after(() => ts?.stop());

  async function check(): Promise<{ ok: boolean; findings: Finding[]; counts: Record<string, number>; scope: Record<string, number> }> {
    const res = await operator(ts, 'GET', '/admin/api/ledger/check');
    expect(res.status, res.text).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    return res.json as never;
  }

  /** Runs `tamper`, checks, and puts the row back however the check went. */
  async function whileTampered<T>(tamper: () => Promise<unknown>, undo: () => Promise<unknown>, look: () => Promise<T>): Promise<T> {
    await tamper();
    try {
      return await look();
    } finally {
      await undo();
    }
  }

  it('finds nothing wrong in books kept by the domain: holds, captures, refunds, voids, repayments, statements, a settlement', async () => {
    const c = await check();
    expect(c.findings).to.deep.equal([]);
    expect(c.ok).to.equal(true);
    expect(c.counts).to.deep.equal({});
    expect(c.scope.approvals).to.be.at.least(6);
    expect(c.scope.statements).to.be.at.least(3);
    expect(c.scope.settlements).to.equal(1);
    const cli = await runCli(ts.config.databaseUrl!, ['ledger', 'check']);
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(/^the books add up: \d+ entries, \d+ accounts, \d+ approvals, \d+ statements, 1 settlements read at /);
  });

  it("finds an account whose balance drifted from its ledger account, and says so in the CLI with exit 3", async () => {
    const bump = (n: number) => ts.db('accounts').where({ id: card.accountId }).increment('posted_balance', n);
    const { c, cli, json } = await whileTampered(
      () => bump(7),
      () => bump(-7),
      async () => ({
        c: await check(),
        cli: await runCli(ts.config.databaseUrl!, ['ledger', 'check']),
        json: await runCli(ts.config.databaseUrl!, ['ledger', 'check', '--format', 'json']),
      }),
    );
    expect(c.ok).to.equal(false);
    const balance = (await ts.db('accounts').where({ id: card.accountId }).first()).posted_balance;
    expect(c.findings).to.deep.equal([
      { check: 'account_posted_balance', subject: card.accountId, figures: { posted_balance: Number(balance) + 7, ledger_receivable: Number(balance) } },
    ]);
    expect(c.counts).to.deep.equal({ account_posted_balance: 1 });
    expect(cli.code).to.equal(3);
    expect(cli.stdout).to.include('the books do NOT add up');
    expect(cli.stdout).to.include(`account_posted_balance ${card.accountId} posted_balance=${Number(balance) + 7} ledger_receivable=${Number(balance)}`);
    expect(json.code).to.equal(3);
    expect(JSON.parse(json.stdout).findings).to.deep.equal(c.findings);
    expect((await check()).ok).to.equal(true);
  });

  it("finds an approval whose amounts disagree with its entries, and the site's payable with it", async () => {
    const bump = (n: number) => ts.db('approvals').where({ approval_no: capturedNo }).increment('refunded_amount', n);
    const c = await whileTampered(() => bump(500), () => bump(-500), check);
    expect(c.findings.map((f) => `${f.check} ${f.subject}`).sort()).to.deep.equal([`approval_receivable ${capturedNo}`, `site_payable ${site.clientId}`]);
    expect(c.findings.find((f) => f.check === 'approval_receivable')!.figures).to.deep.equal({ ledger_receivable: 7_500, captured_less_refunded: 7_000 });
  });

  it('finds a hold the account does not count, and an approval whose entries hold other than it says', async () => {
    const open = await ts.db('approvals').where({ account_id: card.accountId, status: 'approved' }).first();
    // Released in the row without its entry: the ledger still holds it, the approval and the account's open holds do not.
    const c = await whileTampered(
      () => ts.db('approvals').where({ id: open.id }).update({ released_amount: 1_000 }),
      () => ts.db('approvals').where({ id: open.id }).update({ released_amount: 0 }),
      check,
    );
    expect(c.findings.map((f) => f.check).sort()).to.deep.equal(['account_open_holds', 'approval_hold']);
    expect(c.findings.find((f) => f.check === 'approval_hold')!.figures).to.deep.equal({ status: 'approved', ledger_holds: 4_000, still_held: 3_000 });
    expect(c.findings.find((f) => f.check === 'account_open_holds')!.figures).to.deep.equal({ held_amount: 4_000, open_approvals_hold: 3_000 });
  });

  it('runs every billing.checkIntervalSeconds in each instance, logging an error when the books do not add up', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const other = await startCardManager(
      { databaseUrl: ts.config.databaseUrl, logLevel: 'info', billing: { checkIntervalSeconds: 1 } },
      { logStream: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } },
    );
    const logged = async (msg: string) => {
      for (let i = 0; i < 100 && !lines.some((l) => l.msg === msg); i++) await new Promise((r) => setTimeout(r, 100));
      return lines.find((l) => l.msg === msg);
    };
    const bump = (n: number) => ts.db('accounts').where({ id: card.accountId }).increment('held_amount', n);
    try {
      expect(await logged('ledger check: the books add up')).to.include({ level: 30 });
      const bad = await whileTampered(() => bump(3), () => bump(-3), () => logged('ledger check: the books do NOT add up (npm run cli -- ledger check)'));
      expect(bad).to.include({ level: 50 });
      expect(bad!.counts).to.deep.equal({ account_held_amount: 1, account_open_holds: 1 });
    } finally {
      await other.stop();
    }
  });

  it('refuses a query it does not take, a caller without the operator token, and a CLI option it does not know', async () => {
    const odd = await operator(ts, 'GET', '/admin/api/ledger/check?format=csv');
    expect(odd.status).to.equal(400);
    expect(odd.json.fields).to.deep.equal({ format: 'Unknown field.' });
    const anonymous = await fetch(`${ts.url}/admin/api/ledger/check`);
    expect(anonymous.status).to.equal(401);
    const cli = await runCli(ts.config.databaseUrl!, ['ledger', 'check', '--format', 'xml']);
    expect(cli.code).to.equal(1);
    expect(cli.stderr).to.include('One of text, json.');
    const unknown = await runCli(ts.config.databaseUrl!, ['ledger', 'check', '--all']);
    expect(unknown.code).to.equal(1);
  });

  it('finds a journal entry that does not balance, should the trigger that refuses one ever be off', async () => {
    // Last: an entry cannot be taken back (append-only), and this database is this file's own.
    const { rows } = (await ts.db.raw('SELECT max(entry_id) AS id, min(ledger_account_id) AS account FROM postings')) as { rows: Array<{ id: string; account: string }> };
    await ts.db.raw('ALTER TABLE postings DISABLE TRIGGER postings_balanced');
    try {
      await ts.db('postings').insert({ entry_id: rows[0]!.id, ledger_account_id: rows[0]!.account, amount: 1, currency: 'KRW' });
    } finally {
      await ts.db.raw('ALTER TABLE postings ENABLE TRIGGER postings_balanced');
    }
    const c = await check();
    expect(c.ok).to.equal(false);
    expect(c.findings).to.deep.include({ check: 'entry_unbalanced', subject: String(rows[0]!.id), figures: { currency: 'KRW', sum: 1 } });
  });
});
