import { expect } from 'chai';
import type { Db } from '../../src/db/knex.ts';
import { openDb } from '../../src/db/knex.ts';
import { testEnv } from '../helpers/global.ts';

/**
 * The pg client whose transactions send BEGIN with their first statement (db/pg-client.ts): whatever that
 * statement is, it runs inside the transaction, and a failure leaves the connection as good as new.
 */
describe('BEGIN sent with a transaction\'s first statement', () => {
  let db: Db;
  let other: Db;
  const TABLE = 'pg_client_test_rows';
  const rows = async (tag: string) => (await other(TABLE).where({ tag })).length;

  before(async () => {
    db = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1 });
    other = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1 });
    await db.schema.dropTableIfExists(TABLE);
    await db.schema.createTable(TABLE, (t) => t.text('tag'));
  });
  after(async () => {
    await db.schema.dropTableIfExists(TABLE);
    await db.destroy();
    await other.destroy();
  });

  it('runs a first statement with bindings inside the transaction: rolled back, it is gone', async () => {
    const trx = await db.transaction();
    await trx(TABLE).insert({ tag: 'bound' });
    expect(await rows('bound'), 'not visible before the commit').to.equal(0);
    const { rows: same } = (await trx.raw('SELECT txid_current_if_assigned() IS NOT NULL AS assigned')) as { rows: Array<{ assigned: boolean }> };
    expect(same[0]!.assigned).to.equal(true);
    await trx.rollback();
    expect(await rows('bound')).to.equal(0);
    await db.transaction((t) => t(TABLE).insert({ tag: 'kept' }));
    expect(await rows('kept')).to.equal(1);
  });

  it('sends BEGIN alone before a first statement without bindings, and the transaction holds all the same', async () => {
    const trx = await db.transaction();
    await trx.raw(`INSERT INTO ${TABLE} (tag) VALUES ('plain')`);
    await trx.rollback();
    expect(await rows('plain')).to.equal(0);
  });

  it('begins before a savepoint, and commits a transaction that ran nothing', async () => {
    await db.transaction(async (outer) => {
      await outer.transaction(async (inner) => {
        await inner(TABLE).insert({ tag: 'nested' });
      });
    });
    expect(await rows('nested')).to.equal(1);
    await db.transaction(async () => undefined);
    expect(await rows('nested')).to.equal(1);
  });

  it('leaves a named statement that failed to parse unprepared, so it is parsed again next time', async () => {
    const failing = () =>
      db.transaction((trx) => trx.raw('SELECT tag FROM no_such_table_here WHERE tag = ?', ['x']).options({ name: 'pg-client-test-missing' }));
    for (let i = 0; i < 2; i++) {
      let message = '';
      await failing().catch((err: Error) => (message = err.message));
      expect(message).to.match(/relation "no_such_table_here" does not exist/);
    }
    // The connection is fine afterwards, for named statements and plain ones.
    const named = () => db.transaction((trx) => trx.raw('SELECT ?::int AS n', [7]).options({ name: 'pg-client-test-n' }));
    for (let i = 0; i < 2; i++) expect(((await named()) as { rows: Array<{ n: number }> }).rows[0]!.n).to.equal(7);
  });

  it('reports a first statement that fails as it runs, and rolls back', async () => {
    let message = '';
    await db
      .transaction(async (trx) => {
        await trx.raw(`INSERT INTO ${TABLE} (tag) SELECT ? WHERE 1 / ?::int = 1`, ['divided', 0]);
      })
      .catch((err: Error) => (message = err.message));
    expect(message).to.match(/division by zero/);
    expect(await rows('divided')).to.equal(0);
  });
});
