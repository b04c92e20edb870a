import { expect } from 'chai';
import type { Db } from '../../src/db/knex.ts';
import { Writable } from 'node:stream';
import { openDb } from '../../src/db/knex.ts';
import { createLogger } from '../../src/log.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A request runs in one transaction and may hold an account's row lock in it. If the process stalls mid-request (a
 * bug, an await that never settles), PostgreSQL's idle_in_transaction_session_timeout ends the transaction and frees
 * the lock, so the card's next approval is not stuck behind it; the pool carries on with a new connection.
 */
describe('a transaction left idle is ended by PostgreSQL (databaseIdleInTransactionSeconds)', () => {
  const TABLE = 'idle_transaction_test_rows';
  let stalled: Db;
  let other: Db;

  before(async () => {
    other = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1 });
    await other.schema.dropTableIfExists(TABLE);
    await other.schema.createTable(TABLE, (t) => t.integer('id').primary());
    await other(TABLE).insert({ id: 1 });
  });
  afterEach(async () => {
    await stalled?.destroy();
  });
  after(async () => {
    await other.schema.dropTableIfExists(TABLE);
    await other.destroy();
  });

  /** Tries to lock the row without waiting: true when it could. */
  const lockable = async () => {
    try {
      await other.transaction((trx) => trx(TABLE).where({ id: 1 }).forUpdate().noWait());
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') return false;
      throw err;
    }
  };

  it('frees a row lock held by a transaction idle for longer than the setting, and the pool goes on', async () => {
    const logged: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString('utf8'));
        done();
      },
    });
    stalled = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1, idleInTransactionSeconds: 1, log: createLogger('info', stream) });
    const trx = await stalled.transaction();
    try {
      await trx(TABLE).where({ id: 1 }).forUpdate();
      expect(await lockable(), 'held while the transaction is young').to.equal(false);
      await sleep(1600);
      expect(await lockable(), 'freed once it has idled past the setting').to.equal(true);
      const late = await trx.raw('SELECT 1').then(() => null, (err: Error) => err);
      expect(late, 'the ended transaction cannot go on').to.be.instanceOf(Error);
    } finally {
      await trx.rollback().catch(() => undefined);
    }
    const { rows } = (await stalled.raw('SELECT 1 AS one')) as { rows: Array<{ one: number }> };
    expect(rows[0]!.one).to.equal(1);
    // The ended connection is said in the log, not printed: knex's warning, one JSON line.
    expect(logged.join('')).to.include('database client warning');
  });

  it('leaves a transaction alone without the setting (PostgreSQL\'s own default: never)', async () => {
    stalled = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1 });
    const trx = await stalled.transaction();
    try {
      await trx(TABLE).where({ id: 1 }).forUpdate();
      await sleep(1200);
      expect(await lockable()).to.equal(false);
    } finally {
      await trx.rollback();
    }
  });

  describe('the server', () => {
    let server: TestServer;
    after(async () => {
      await server?.stop();
    });

    it('sets it on its connections, 60 s by default', async () => {
      server = await startCardManager();
      expect(server.config.databaseIdleInTransactionSeconds).to.equal(60);
      const { rows } = (await server.db.raw('SHOW idle_in_transaction_session_timeout')) as { rows: Array<Record<string, string>> };
      expect(rows[0]!.idle_in_transaction_session_timeout).to.equal('1min');
    });
  });
});
