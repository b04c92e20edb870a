import { expect } from 'chai';
import { checkLedger } from '../../src/ledger/check-ledger.ts';
import fc from 'fast-check';
import { approve } from '../../src/approvals/approve.ts';
import { capture } from '../../src/approvals/capture.ts';
import { AppError } from '../../src/errors.ts';
import { expireHolds } from '../../src/approvals/expire.ts';
import { refund } from '../../src/approvals/refund.ts';
import { voidApproval } from '../../src/approvals/void.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { repay } from '../../src/ledger/repay.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approvalsOf, cardWithLimit, ledgerOf, startLedgerServer, unbalancedEntries } from './fixtures.ts';

/**
 * fast-check's size knobs: RUNS runs of 60–100 % of OPS commands each (PROPERTY_RUNS / PROPERTY_OPS to go bigger). The
 * issue asks for thousands of random operations: at the defaults, at least 30 × 72 = 2,160 in every run of the test.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 30);
const OPS = Number(process.env.PROPERTY_OPS ?? 120);
const MIN_OPS = Math.ceil(OPS * 0.6);
const CARDS = 5;

type Cmd =
  | { t: 'approve'; card: number; site: number; amount: number }
  | { t: 'capture'; a: number; amount: number | undefined }
  | { t: 'void'; a: number }
  | { t: 'refund'; a: number; amount: number | undefined }
  | { t: 'expire'; a: number }
  | { t: 'repay'; card: number; amount: number }
  | { t: 'bill' };

const amount = fc.integer({ min: 1, max: 15_000 });
const partial = fc.option(fc.integer({ min: 1, max: 12_000 }), { nil: undefined });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('approve' as const), card: fc.nat(CARDS - 1), site: fc.nat(2), amount }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('capture' as const), a: fc.nat(), amount: partial }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('void' as const), a: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('refund' as const), a: fc.nat(), amount: partial }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expire' as const), a: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('repay' as const), card: fc.nat(CARDS - 1), amount: fc.integer({ min: 1, max: 30_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'bill' as const }) },
);

interface ModelApproval {
  no: string;
  card: number;
  amount: number;
  captured: number;
  refunded: number;
  released: number;
  open: boolean;
}

describe('ledger properties under random holds, captures, voids, refunds, expiries, repayments and billing runs', function () {
  this.timeout(300_000);
  let ts: TestServer;
  let sites: TestSite[];

  before(async () => {
    ts = await startLedgerServer();
    sites = [await registerTestSite(ts), await registerTestSite(ts), await registerTestSite(ts)];
  });
  after(() => ts.stop());

  /** Statement dates for the run's billing steps: recent (never overdue), ascending, days 1–28. */
  function billingDates(): string[] {
    const today = todayIn(ts.config.billing.timeZone);
    const out: string[] = [];
    for (const back of [12, 9, 6, 3, 0]) {
      const d = new Date(`${today}T12:00:00Z`);
      d.setUTCDate(d.getUTCDate() - back);
      if (d.getUTCDate() <= 28) out.push(d.toISOString().slice(0, 10));
    }
    return out;
  }

  /** Runs a change: its result, or undefined when refused with a 4xx AppError (anything else fails the test). */
  async function attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AppError && err.status >= 400 && err.status < 500) return undefined;
      throw err;
    }
  }

  async function checkInvariants(accountIds: string[]): Promise<void> {
    expect(await unbalancedEntries(ts), 'unbalanced journal entries').to.equal(0);
    const accounts = await ts.db('accounts').whereIn('id', accountIds);
    for (const a of accounts) {
      expect(Number(a.credit_limit) - Number(a.posted_balance) - Number(a.held_amount), 'available credit').to.be.at.least(0);
    }
    // The operator's `ledger check` on this file's own database: balances, holds, approvals, site payables and
    // statements agree with the ledger and with each other (db/ledger-check.ts has the rules).
    const check = await checkLedger(ts.db);
    expect(check.findings, 'the books do not add up').to.deep.equal([]);
  }


  it('keeps every entry balanced, available credit ≥ 0, statements adding up and site payables = captures − refunds', async () => {
    const ledger = ledgerOf(ts);
    const deps = approvalsOf(ts);
    const dates = billingDates();
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(cmd, { minLength: MIN_OPS, maxLength: OPS }),
        fc.array(fc.integer({ min: 5_000, max: 60_000 }), { minLength: CARDS, maxLength: CARDS }),
        fc.boolean(),
        async (cmds, limits, parallel) => {
          const cards: TestCard[] = [];
          for (const limit of limits) cards.push(await cardWithLimit(ts, limit, { statement_day: Number(dates[0]!.slice(8)) }));
          const posted = limits.map(() => 0);
          const held = limits.map(() => 0);
          const model: ModelApproval[] = [];
          let bills = 0;
          const sys = { actor: 'system:property' };

          const run = async (c: Cmd): Promise<void> => {
            ops++;
            switch (c.t) {
              case 'approve': {
                const fits = c.amount <= limits[c.card]! - posted[c.card]! - held[c.card]!;
                const done = await attempt(() =>
                    approve(deps, {
                      accountId: cards[c.card]!.accountId,
                      cardId: cards[c.card]!.cardId,
                      clientId: sites[c.site]!.clientId,
                      amount: c.amount,
                      currency: 'KRW',
                      description: `item ${ops}`,
                      contentRef: null,
                      rating: 0,
                    }),
                );
                if (!parallel) expect(done !== undefined, `approve ${c.amount}`).to.equal(fits);
                if (done) {
                  model.push({ no: done.approvalNo, card: c.card, amount: c.amount, captured: 0, refunded: 0, released: 0, open: true });
                  held[c.card]! += c.amount;
                }
                return;
              }
              case 'capture': {
                const a = model[c.a % Math.max(model.length, 1)];
                if (!a) return;
                const remaining = a.amount - a.captured - a.released;
                const amt = c.amount ?? remaining;
                const done = await attempt(() => inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: a.no, amount: c.amount })));
                if (!parallel) expect(done !== undefined, `capture ${amt} of ${remaining}`).to.equal(a.open && amt <= remaining);
                if (done) {
                  if (!parallel) expect(done.amount).to.equal(amt);
                  a.captured += done.amount;
                  held[a.card]! -= done.amount;
                  posted[a.card]! += done.amount;
                  if (a.captured + a.released === a.amount) a.open = false;
                }
                return;
              }
              case 'void': {
                const a = model[c.a % Math.max(model.length, 1)];
                if (!a) return;
                const remaining = a.amount - a.captured - a.released;
                const done = await attempt(() => inTransaction(ts.db, (trx) => voidApproval(trx, { ...sys, approvalNo: a.no })));
                if (!parallel) expect(done !== undefined, 'void').to.equal(a.open);
                if (done) {
                  if (!parallel) expect(done.released).to.equal(remaining);
                  a.released += done.released;
                  held[a.card]! -= done.released;
                  a.open = false;
                }
                return;
              }
              case 'refund': {
                const a = model[c.a % Math.max(model.length, 1)];
                if (!a) return;
                const refundable = a.captured - a.refunded;
                const amt = c.amount ?? refundable;
                const done = await attempt(() => inTransaction(ts.db, (trx) => refund(trx, { ...sys, approvalNo: a.no, amount: c.amount })));
                if (!parallel) expect(done !== undefined, `refund ${amt} of ${refundable}`).to.equal(refundable > 0 && amt <= refundable);
                if (done) {
                  if (!parallel) expect(done.amount).to.equal(amt);
                  a.refunded += done.amount;
                  posted[a.card]! -= done.amount;
                }
                return;
              }
              case 'expire': {
                const a = model[c.a % Math.max(model.length, 1)];
                if (!a) return;
                await ts.db('approvals').where({ approval_no: a.no, status: 'approved' }).update({ hold_expires_at: ts.db.raw("now() - interval '1 second'") });
                const row = await ts.db('approvals').where({ approval_no: a.no }).first();
                await expireHolds({ db: ts.db });
                const after = await ts.db('approvals').where({ approval_no: a.no }).first();
                if (row.status === 'approved') {
                  // A capture racing it (parallel mode) may have closed it first; otherwise expiry releases it.
                  const released = Number(after.released_amount) - Number(row.released_amount);
                  a.released += released;
                  held[a.card]! -= released;
                  a.open = after.status === 'approved';
                  if (!parallel) expect(after.status).to.be.oneOf(['expired', 'captured']);
                }
                return;
              }
              case 'repay': {
                await repay(ledger, { accountId: cards[c.card]!.accountId, amount: c.amount, currency: 'KRW', source: 'operator', actor: 'property' });
                posted[c.card]! -= c.amount;
                return;
              }
              case 'bill': {
                const date = dates[Math.min(++bills, dates.length - 1)]!;
                await ts.db('accounts').whereIn('id', cards.map((x) => x.accountId)).update({ statement_day: Number(date.slice(8)) });
                await billingRun(ledger, { date, cutoff: new Date() });
                return;
              }
            }
          };

          const chunk = parallel ? 4 : 1;
          for (let i = 0; i < cmds.length; i += chunk) {
            // Billing runs and expiry sweeps go alone: a statement's cutoff must not fall inside a change
            // still in flight, and one sweep releases every expired hold (the model reads its own back).
            const group = cmds.slice(i, i + chunk);
            const alone = (c: Cmd) => c.t === 'bill' || c.t === 'expire';
            await Promise.all(group.filter((c) => !alone(c)).map(run));
            for (const c of group.filter(alone)) await run(c);
          }
          await billingRun(ledger, { date: dates[dates.length - 1]!, cutoff: new Date() });

          const rows = await ts.db('accounts').whereIn('id', cards.map((c) => c.accountId));
          for (const [i, c] of cards.entries()) {
            const r = rows.find((x) => x.id === c.accountId)!;
            expect(Number(r.posted_balance), `posted of card ${i}`).to.equal(posted[i]);
            expect(Number(r.held_amount), `held of card ${i}`).to.equal(held[i]);
          }
          await checkInvariants(cards.map((c) => c.accountId));
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(ops, 'commands run').to.be.at.least(Math.min(2000, RUNS * MIN_OPS));
  });
});
