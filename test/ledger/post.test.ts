import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Db, Trx } from '../../src/db/knex.ts';
import { openDb } from '../../src/db/knex.ts';
import { HOUSE, post } from '../../src/ledger/post.ts';
import { sqlDuring } from '../helpers/db.ts';
import { testEnv } from '../helpers/global.ts';

/**
 * post(): a journal entry and its postings in one statement once the entry's ledger accounts exist; the
 * first posting to a new account creates it. Leg order, amounts and accounts come out as asked either way.
 */
describe('posting a journal entry', () => {
  let db: Db;
  before(() => {
    db = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir });
  });
  after(() => db.destroy());

  async function legsOf(entryId: number) {
    return db('postings as p')
      .join('ledger_accounts as a', 'a.id', 'p.ledger_account_id')
      .where('p.entry_id', entryId)
      .orderBy('p.id')
      .select('a.kind', 'a.owner_id', 'a.currency', db.raw('p.amount::int AS amount'), 'p.currency as posted_in');
  }

  /** The statements a transaction sends (BEGIN and COMMIT aside). */
  async function counted<T>(work: (trx: Trx) => Promise<T>): Promise<{ result: T; statements: number }> {
    let result: T | undefined;
    const sql = await sqlDuring(db, async () => {
      result = await db.transaction(work);
    });
    return { result: result as T, statements: sql.filter((s) => !/^(BEGIN|COMMIT)/i.test(s)).length };
  }

  it('creates the accounts a first entry needs, then posts to them in one statement', async () => {
    const owner = randomUUID();
    const hold = (amount: number) => (trx: Trx) =>
      post(trx, {
        kind: 'hold',
        approvalId: null,
        currency: 'KRW',
        memo: 'test',
        legs: [
          { kind: 'holds', ownerId: owner, amount },
          { kind: 'holds_control', ownerId: HOUSE, amount: -amount },
        ],
      });
    const first = await counted(hold(700));
    expect(first.statements, 'a try, the accounts created, the entry').to.equal(3);
    const second = await counted(hold(300));
    expect(second.statements).to.equal(1);
    for (const [id, amount] of [[first.result, 700], [second.result, 300]] as const) {
      expect(await legsOf(id)).to.deep.equal([
        { kind: 'holds', owner_id: owner, currency: 'KRW', amount, posted_in: 'KRW' },
        { kind: 'holds_control', owner_id: '', currency: 'KRW', amount: -amount, posted_in: 'KRW' },
      ]);
    }
    expect(await db('ledger_accounts').where({ owner_id: owner })).to.have.length(1);
  });

  it('keeps legs apart that name one account, and currencies apart', async () => {
    const owner = randomUUID();
    const entry = await db.transaction((trx) =>
      post(trx, {
        kind: 'test',
        approvalId: null,
        currency: 'USD',
        legs: [
          { kind: 'receivable', ownerId: owner, amount: 5 },
          { kind: 'receivable', ownerId: owner, amount: 3 },
          { kind: 'cash', ownerId: HOUSE, amount: -8 },
        ],
      }),
    );
    expect((await legsOf(entry)).map((l) => [l.kind, l.currency, l.amount])).to.deep.equal([
      ['receivable', 'USD', 5],
      ['receivable', 'USD', 3],
      ['cash', 'USD', -8],
    ]);
  });

  it('refuses an entry that does not balance, writing nothing', async () => {
    const owner = randomUUID();
    const before = Number((await db('journal_entries').count({ n: '*' }).first())!.n);
    const unbalanced = db.transaction((trx) =>
      post(trx, { kind: 'test', approvalId: null, currency: 'KRW', legs: [{ kind: 'holds', ownerId: owner, amount: 5 }, { kind: 'holds_control', ownerId: HOUSE, amount: -4 }] }),
    );
    await unbalanced.then(
      () => expect.fail('posted'),
      // Refused by post() itself, with its own words, before anything is sent (the database's check at commit is the second line).
      (err: Error) => expect(err.message).to.equal('journal entry test does not balance (1)'),
    );
    expect(Number((await db('journal_entries').count({ n: '*' }).first())!.n)).to.equal(before);
    expect(await db('ledger_accounts').where({ owner_id: owner })).to.have.length(0);
  });
});
