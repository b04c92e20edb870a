import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { capture } from '../../src/approvals/capture.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { approveFor, cardWithLimit, operator, startLedgerServer, unbalancedEntries } from './fixtures.ts';

const PATH = '/admin/api/ledger/repayments';

describe('operator repayments with an Idempotency-Key', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  const alice = randomBytes(24).toString('base64url');
  const bob = randomBytes(24).toString('base64url');

  const as = (token: string, key?: string) => ({ authorization: `Bearer ${token}`, ...(key === undefined ? {} : { 'idempotency-key': key }) });
  const count = async (table: string) => Number((await ts.db(table).count({ n: '*' }).first())!.n);
  const posted = async () => Number((await ts.db('accounts').where({ id: card.accountId }).first()).posted_balance);
  /** What a repeated or refused request must leave as it was. */
  const books = async () => ({ posted: await posted(), repayments: await count('repayments'), entries: await count('journal_entries'), audit: await count('audit_log') });
  async function checkBooks() {
    const res = await operator(ts, 'GET', '/admin/api/ledger/check', undefined, as(alice));
    expect(res.json.findings).to.deep.equal([]);
    expect(res.json.ok).to.equal(true);
    expect(await unbalancedEntries(ts)).to.equal(0);
  }

  before(async () => {
    ts = await startLedgerServer({}, { env: { OPERATOR_TOKENS: `alice:${alice}, bob:${bob}` } });
    site = await registerTestSite(ts);
    card = await cardWithLimit(ts, 100_000);
    const a = await approveFor(ts, card, site, 50_000);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, actor: 'test' }));
  });
  after(() => ts.stop());

  it('applies a repayment without a transaction id once when it is sent twice with one key, answering the first answer again', async () => {
    const before = await books();
    const body = { card_id: card.cardId, amount: 1_000, memo: 'paid at the counter' };
    const first = await operator(ts, 'POST', PATH, body, as(alice, 'console-7f3a-0001'));
    const again = await operator(ts, 'POST', PATH, body, as(alice, 'console-7f3a-0001'));
    expect(first.status).to.equal(201);
    expect(first.json).to.include({ status: 'applied', balance: before.posted - 1_000 });
    expect(first.headers.get('idempotent-replayed')).to.equal(null);
    expect(again.status).to.equal(201);
    expect(again.text).to.equal(first.text);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(await books()).to.deep.equal({ posted: before.posted - 1_000, repayments: before.repayments + 1, entries: before.entries + 1, audit: before.audit + 1 });
    await checkBooks();
  });

  it('applies concurrent duplicates once, each answered as the first', async () => {
    const before = await books();
    const body = { payment_reference: (await ts.db('accounts').where({ id: card.accountId }).first()).payment_reference, amount: 700 };
    const racing = await Promise.all(Array.from({ length: 6 }, () => operator(ts, 'POST', PATH, body, as(alice, 'script-run-42'))));
    expect(racing.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 201, 201]);
    expect(new Set(racing.map((r) => r.text)).size).to.equal(1);
    expect(racing.filter((r) => r.headers.get('idempotent-replayed') === 'true')).to.have.length(5);
    expect(await books()).to.deep.equal({ posted: before.posted - 700, repayments: before.repayments + 1, entries: before.entries + 1, audit: before.audit + 1 });
    await checkBooks();
  });

  it('refuses the same key with a different body with 409 and changes nothing', async () => {
    const body = { card_id: card.cardId, amount: 300 };
    expect((await operator(ts, 'POST', PATH, body, as(alice, 'k-409'))).status).to.equal(201);
    const before = await books();
    for (const other of [{ ...body, amount: 301 }, { ...body, memo: 'another' }, { ...body, transaction_id: 'T-1' }, { ...body, currency: 'KRW' }]) {
      const res = await operator(ts, 'POST', PATH, other, as(alice, 'k-409'));
      expect(res.status, JSON.stringify(other)).to.equal(409);
      expect(res.json.error).to.equal('idempotency_key_reused');
      expect(res.json.error_description).to.match(/already used for a different request/);
    }
    expect(await books()).to.deep.equal(before);
    await checkBooks();
  });

  it('refuses a malformed key with 400 and changes nothing', async () => {
    const before = await books();
    for (const key of ['', 'has space', 'x'.repeat(256), 'tab\there']) {
      const res = await operator(ts, 'POST', PATH, { card_id: card.cardId, amount: 100 }, as(alice, key));
      expect(res.status, JSON.stringify(key)).to.equal(400);
      expect(res.json.error).to.equal('invalid_idempotency_key');
    }
    expect(await books()).to.deep.equal(before);
  });

  it('records nothing for a refused request: its key may be used again for the corrected one', async () => {
    const before = await books();
    const wrong = await operator(ts, 'POST', PATH, { card_id: card.cardId, amount: 100, currency: 'USD' }, as(alice, 'k-fix'));
    expect(wrong.status).to.equal(422);
    expect(await books()).to.deep.equal(before);
    const right = await operator(ts, 'POST', PATH, { card_id: card.cardId, amount: 100 }, as(alice, 'k-fix'));
    expect(right.status).to.equal(201);
    expect(await posted()).to.equal(before.posted - 100);
  });

  it("keeps each operator's keys apart: another operator's key of the same name is another request", async () => {
    const before = await books();
    const body = { card_id: card.cardId, amount: 200 };
    const a = await operator(ts, 'POST', PATH, body, as(alice, 'morning-1'));
    const b = await operator(ts, 'POST', PATH, body, as(bob, 'morning-1'));
    expect([a.status, b.status]).to.deep.equal([201, 201]);
    expect(b.headers.get('idempotent-replayed')).to.equal(null);
    expect((b.json.repayment as { id: number }).id).to.not.equal((a.json.repayment as { id: number }).id);
    expect(await posted()).to.equal(before.posted - 400);
    // bob's key under another body is his own: no 409 for alice's use of the name.
    expect((await operator(ts, 'POST', PATH, { ...body, amount: 5 }, as(bob, 'morning-2'))).status).to.equal(201);
    await checkBooks();
  });
});
