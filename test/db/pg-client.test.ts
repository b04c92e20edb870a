import { expect } from 'chai';
import type { Db } from '../../src/db/knex.ts';
import { openDb } from '../../src/db/knex.ts';
import { commitWithNextStatement, MAX_PREPARED_PER_CONNECTION, preparedNameFor } from '../../src/db/pg-client.ts';
import { sqlDuring } from '../helpers/db.ts';
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

/**
 * Statements with bindings are prepared once per connection under a name from their text (db/pg-client.ts),
 * except those returning `*`, past a bound per connection, and on a connection where a changed result type
 * made one unusable.
 */
describe('statements prepared once per connection', () => {
  let db: Db;
  const TABLE = 'pg_client_prepared_rows';
  /** The names prepared on db's one connection. */
  const preparedNames = async () =>
    new Set(((await db.raw('SELECT name FROM pg_prepared_statements')) as { rows: Array<{ name: string }> }).rows.map((r) => r.name));

  beforeEach(async () => {
    // One connection, new for each test: what it has prepared is this test's alone.
    db = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1 });
    await db.schema.dropTableIfExists(TABLE);
    await db.schema.createTable(TABLE, (t) => {
      t.integer('v');
      t.text('tag');
    });
    await db(TABLE).insert([{ v: 1, tag: 'one' }, { v: 2, tag: 'two' }]);
  });
  afterEach(async () => {
    await db.schema.dropTableIfExists(TABLE);
    await db.destroy();
  });

  it('prepares a statement with bindings under a name from its text, and runs it prepared from then on', async () => {
    const query = () => db(TABLE).select('tag').where({ v: 2 });
    const { sql } = query().toSQL().toNative();
    expect(await preparedNames()).to.not.include(preparedNameFor(sql));
    for (let i = 0; i < 3; i++) expect(await query()).to.deep.equal([{ tag: 'two' }]);
    expect(await preparedNames()).to.include(preparedNameFor(sql));
    // Inside a transaction too, as its first statement (sent after BEGIN) and later.
    await db.transaction(async (trx) => {
      expect(await trx(TABLE).select('tag').where({ v: 1 })).to.deep.equal([{ tag: 'one' }]);
      expect(await trx(TABLE).select('tag').where({ v: 2 })).to.deep.equal([{ tag: 'two' }]);
    });
  });

  it('leaves `*` results unprepared, so a migration that adds a column breaks nothing', async () => {
    const star = () => db(TABLE).where({ v: 1 }).first();
    const named = () => db(TABLE).select('v', 'tag').where({ v: 1 }).first();
    expect(await star()).to.deep.equal({ v: 1, tag: 'one' });
    expect(await named()).to.deep.equal({ v: 1, tag: 'one' });
    expect(await preparedNames()).to.not.include(preparedNameFor(star().toSQL().toNative().sql));
    await db.schema.alterTable(TABLE, (t) => t.text('added').defaultTo('new'));
    expect(await star()).to.deep.equal({ v: 1, tag: 'one', added: 'new' });
    expect(await named(), 'named columns: the prepared result type is unchanged').to.deep.equal({ v: 1, tag: 'one' });
  });

  it(`prepares at most ${MAX_PREPARED_PER_CONNECTION} per connection, and runs the rest unnamed`, async () => {
    const before = (await preparedNames()).size;
    for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + 10; i++) {
      const { rows } = (await db.raw(`SELECT ?::int + ${i} AS n`, [1])) as { rows: Array<{ n: number }> };
      expect(rows[0]!.n).to.equal(1 + i);
    }
    expect((await preparedNames()).size - before).to.be.at.most(MAX_PREPARED_PER_CONNECTION);
    expect((await preparedNames()).size - before).to.be.at.least(MAX_PREPARED_PER_CONNECTION - 5);
    expect(await preparedNames()).to.not.include(preparedNameFor(`SELECT ?::int + ${MAX_PREPARED_PER_CONNECTION + 9} AS n`.replace('?', '$1')));
  });

  it("keeps a statement prepared when it fails as it runs after its Parse, as a transaction's first statement", async () => {
    // Sent with BEGIN ahead of it: the Parse succeeds and the Execute fails. Parsing it again would be refused
    // ("prepared statement already exists"), so it must be recorded as prepared, and is.
    const divide = (by: number) => db.transaction((trx) => trx.raw(`SELECT 1 / ?::int AS q FROM ${TABLE} WHERE v = 1`, [by]));
    let message = '';
    await divide(0).catch((err: Error) => (message = err.message));
    expect(message).to.match(/division by zero/);
    expect(await preparedNames()).to.include(preparedNameFor(`SELECT 1 / $1::int AS q FROM ${TABLE} WHERE v = 1`));
    expect(((await divide(1)) as { rows: Array<{ q: number }> }).rows).to.deep.equal([{ q: 1 }]);
    await divide(0).catch(() => undefined);
    expect(((await divide(1)) as { rows: Array<{ q: number }> }).rows).to.deep.equal([{ q: 1 }]);
  });

  it("stops using a prepared statement on a connection once a column's new type changed its result", async () => {
    const query = () => db(TABLE).select('v').where({ tag: 'two' });
    expect(await query()).to.deep.equal([{ v: 2 }]);
    await db.raw(`ALTER TABLE ${TABLE} ALTER COLUMN v TYPE bigint`);
    let message = '';
    await query().catch((err: Error) => (message = err.message));
    expect(message).to.match(/cached plan must not change result type/);
    // From then on, the statement runs unnamed on this connection.
    for (let i = 0; i < 2; i++) expect(await query()).to.deep.equal([{ v: 2 }]);
  });
});

/**
 * COMMIT sent with a transaction's last statement (commitWithNextStatement, used by the request scope for
 * the work it runs at commit): one round trip, and every outcome as with COMMIT sent alone.
 */
describe('COMMIT sent with a transaction\'s last statement', () => {
  let db: Db;
  let other: Db;
  const TABLE = 'pg_client_commit_rows';
  const rows = async (tag: string) => (await other(TABLE).where({ tag })).length;
  let responses = 0;
  const count = () => void responses++;

  before(async () => {
    db = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1 });
    other = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1 });
    await db.schema.dropTableIfExists(TABLE);
    await db.schema.createTable(TABLE, (t) => t.text('tag'));
    // A deferred check at COMMIT: a row tagged 'refused' makes the commit fail.
    await db.raw(`CREATE OR REPLACE FUNCTION ${TABLE}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.tag = 'refused' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$`);
    await db.raw(`CREATE CONSTRAINT TRIGGER ${TABLE}_refuse AFTER INSERT ON ${TABLE} DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION ${TABLE}_refuse()`);
    db.client.on('query-response', count);
  });
  after(async () => {
    db.client.off('query-response', count);
    await db.schema.dropTableIfExists(TABLE);
    await db.raw(`DROP FUNCTION IF EXISTS ${TABLE}_refuse()`);
    await db.destroy();
    await other.destroy();
  });

  it('commits with the statement: visible to others before commit() is called, which then sends nothing', async () => {
    const trx = await db.transaction();
    await trx(TABLE).insert({ tag: 'first' });
    await commitWithNextStatement(trx);
    await trx(TABLE).insert({ tag: 'last' });
    expect(await rows('last'), 'committed with the statement').to.equal(1);
    const before = responses;
    const result = (await trx.commit()) as { response?: { command?: string } };
    expect(responses - before, 'no round trip for the COMMIT').to.equal(0);
    expect(result.response?.command).to.equal('COMMIT');
    expect(trx.isCompleted()).to.equal(true);
    expect(await rows('first')).to.equal(1);
    // The connection goes on as new.
    await db.transaction((t) => t(TABLE).insert({ tag: 'after' }));
    expect(await rows('after')).to.equal(1);
  });

  it('sends BEGIN, the statement and COMMIT in one round trip for a transaction of one statement', async () => {
    const trx = await db.transaction();
    const before = responses;
    await commitWithNextStatement(trx);
    await trx(TABLE).insert({ tag: 'only' });
    await trx.commit();
    expect(responses - before).to.equal(1);
    expect(await rows('only')).to.equal(1);
  });

  it('leaves the transaction open for ROLLBACK when the statement fails, and commits nothing', async () => {
    const trx = await db.transaction();
    await trx(TABLE).insert({ tag: 'kept back' });
    await commitWithNextStatement(trx);
    let message = '';
    await trx.raw(`INSERT INTO ${TABLE} (tag) SELECT ? WHERE 1 / ?::int = 1`, ['divided', 0]).catch((err: Error) => (message = err.message));
    expect(message).to.match(/division by zero/);
    expect(trx.isCompleted()).to.equal(false);
    await trx.rollback().catch(() => undefined);
    expect(await rows('kept back')).to.equal(0);
    expect(await rows('divided')).to.equal(0);
    await db.transaction((t) => t(TABLE).insert({ tag: 'fine' }));
    expect(await rows('fine')).to.equal(1);
  });

  it("gives the statement COMMIT's own failure (a deferred constraint), and keeps nothing", async () => {
    const trx = await db.transaction();
    await trx(TABLE).insert({ tag: 'with the refused one' });
    await commitWithNextStatement(trx);
    let message = '';
    await trx(TABLE).insert({ tag: 'refused' }).catch((err: Error) => (message = err.message));
    expect(message).to.match(/refused at commit/);
    await trx.rollback().catch(() => undefined);
    expect(await rows('with the refused one')).to.equal(0);
    await db.transaction((t) => t(TABLE).insert({ tag: 'fine again' }));
    expect(await rows('fine again')).to.equal(1);
  });

  it('sends COMMIT alone when no statement with bindings comes first', async () => {
    const trx = await db.transaction();
    await trx(TABLE).insert({ tag: 'plain before' });
    await commitWithNextStatement(trx);
    const statements = await sqlDuring(db, async () => {
      await trx.raw(`INSERT INTO ${TABLE} (tag) VALUES ('plain last')`);
      expect(await rows('plain last'), 'not committed yet').to.equal(0);
      await trx.commit();
    });
    expect(statements.at(-1)).to.match(/^COMMIT/);
    expect(await rows('plain before')).to.equal(1);
    expect(await rows('plain last')).to.equal(1);
    const empty = await db.transaction();
    await empty(TABLE).insert({ tag: 'nothing after' });
    await commitWithNextStatement(empty);
    await empty.commit();
    expect(await rows('nothing after')).to.equal(1);
  });
});
