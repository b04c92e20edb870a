import { expect } from 'chai';
import { capture } from '../../src/approvals/capture.ts';
import { refund } from '../../src/approvals/refund.ts';
import { voidApproval } from '../../src/approvals/void.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { checkLedger, type LedgerCheck } from '../../src/ledger/check-ledger.ts';
import { repay } from '../../src/ledger/repay.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, ledgerOf, startLedgerServer } from './fixtures.ts';

/**
 * `ledger check` reads the books in one snapshot (a repeatable-read, read-only transaction): payments, captures,
 * refunds, voids and repayments committing while it reads never make a rule look broken. A real imbalance still is.
 */
describe('the ledger check while postings go on', function () {
  this.timeout(120_000);
  let ts: TestServer;
  let site: TestSite;
  let cards: TestCard[];
  const sys = { actor: 'system:test' };

  before(async () => {
    ts = await startLedgerServer();
    site = await registerTestSite(ts);
    cards = [];
    for (let i = 0; i < 4; i++) cards.push(await cardWithLimit(ts, 10_000_000));
  });
  after(() => ts?.stop());

  /** One card's money moving: a hold, part captured, part refunded, the rest voided, a repayment; `rounds` times. */
  async function postings(card: TestCard, rounds: number): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      const a = await approveFor(ts, card, site, 5_000 + i);
      await inTransaction(ts.db, (trx) => capture(trx, { ...sys, approvalNo: a.approvalNo, amount: 3_000 }));
      await inTransaction(ts.db, (trx) => refund(trx, { ...sys, approvalNo: a.approvalNo, amount: 1_000 }));
      await inTransaction(ts.db, (trx) => voidApproval(trx, { ...sys, approvalNo: a.approvalNo }));
      await repay(ledgerOf(ts), { accountId: card.accountId, amount: 500, currency: 'KRW', source: 'operator', actor: 'test' });
    }
  }

  it('never reports an imbalance while postings commit around it, and still reports one made by hand', async () => {
    let posting = true;
    const checks: LedgerCheck[] = [];
    const checking = (async () => {
      while (posting) checks.push(await checkLedger(ts.db));
    })();
    try {
      await Promise.all(cards.map((c) => postings(c, 15)));
    } finally {
      posting = false;
      await checking;
    }
    expect(checks.length).to.be.greaterThan(3);
    expect(checks.flatMap((c) => c.findings)).to.deep.equal([]);
    // What was read grew while the checks ran: they did run among the postings.
    expect(checks[checks.length - 1]!.scope.entries).to.be.greaterThan(checks[0]!.scope.entries);

    // A real imbalance: an account's balance moved without its entry.
    const bump = (n: number) => ts.db('accounts').where({ id: cards[0]!.accountId }).increment('posted_balance', n);
    await bump(7);
    let tampered: LedgerCheck;
    try {
      tampered = await checkLedger(ts.db);
    } finally {
      await bump(-7);
    }
    expect(tampered.ok).to.equal(false);
    expect(tampered.findings.map((f) => `${f.check} ${f.subject}`)).to.deep.equal([`account_posted_balance ${cards[0]!.accountId}`]);
    expect((await checkLedger(ts.db)).ok).to.equal(true);
  });
});
