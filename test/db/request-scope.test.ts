import { expect } from 'chai';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Db } from '../../src/db/knex.ts';
import { afterRequestCommit, atCommit, forgetInRequest, joinRequestTransaction, memoInRequest, requestScopedDb } from '../../src/db/request-scope.ts';
import { requestTransaction, settleBeforeResponse } from '../../src/http/request-transaction.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { close } from '../../src/server.ts';
import { connect, sqlDuring } from '../helpers/db.ts';
import { testEnv } from '../helpers/global.ts';

/**
 * One transaction per request: what a request wrote is committed before its response leaves, all of
 * it, or (after a server error) none of it. A tiny Koa app on the run's PostgreSQL, with the scope
 * middleware exactly as the card manager mounts it.
 */
describe('request transactions', () => {
  let pool: Db;
  let db: Db;
  let server: Server;
  let url: string;
  const TABLE = 'scope_test_rows';
  let arrivedSlow: () => void = () => undefined;
  const slowArrived = new Promise<void>((resolve) => (arrivedSlow = resolve));
  /** Tags whose requests ran their afterRequestCommit work. */
  const committedTags: string[] = [];

  before(async () => {
    pool = connect(testEnv.databaseUrl);
    db = requestScopedDb(pool);
    await pool.schema.dropTableIfExists(TABLE);
    await pool.schema.createTable(TABLE, (t) => {
      t.text('tag').primary();
    });
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = (err as { status?: number }).status ?? 500;
        ctx.body = 'refused';
      }
    });
    app.use(requestTransaction((ctx) => ctx.path === '/unscoped'));
    app.use(async (ctx) => {
      const tag = ctx.query.tag as string;
      const put = () => db(TABLE).insert({ tag });
      switch (ctx.path) {
        case '/ok':
          await put();
          // Still uncommitted here: another connection cannot see it yet.
          ctx.body = { seenOutside: Boolean(await pool(TABLE).where({ tag }).first()), seenInside: Boolean(await db(TABLE).where({ tag }).first()) };
          return;
        case '/client-error':
          await put();
          ctx.throw(409, 'conflict');
          return;
        case '/server-error':
          await put();
          throw new Error('boom');
        case '/5xx-status':
          await put();
          ctx.status = 503;
          ctx.body = 'down';
          return;
        case '/savepoint':
          await put();
          await inTransaction(db, async (trx) => {
            await trx(TABLE).insert({ tag: `${tag}-inner` });
            throw new Error('inner fails');
          }).catch(() => undefined);
          ctx.body = 'ok';
          return;
        case '/swallowed':
          await put();
          afterRequestCommit(() => committedTags.push(tag));
          await db.raw('SELECT 1 / 0').catch(() => undefined);
          ctx.body = 'looks fine';
          return;
        case '/raw-response': {
          // Like oidc-provider: a handler that writes the response itself, settling first.
          ctx.respond = false;
          await settleBeforeResponse(ctx, async () => {
            await put();
          });
          ctx.res.statusCode = 200;
          ctx.res.end('written');
          return;
        }
        case '/memo': {
          let loads = 0;
          const load = async () => ++loads;
          const first = await memoInRequest('k', load);
          const again = await memoInRequest('k', load);
          forgetInRequest('k*');
          const afterForget = await memoInRequest('k', load);
          ctx.body = { first, again, afterForget, loads };
          return;
        }
        case '/at-commit': {
          // Left for the commit, through another pool's handle (as the throttles' side pool): it runs as
          // the request transaction's last statement, after everything the request did later.
          await put();
          await atCommit(pool, async (conn) => {
            const { rows } = await conn.raw('SELECT txid_current()::text AS id');
            await conn(TABLE).insert({ tag: `${tag}:${rows[0].id}` });
          });
          if (ctx.query.failAtCommit) {
            await atCommit(pool, async () => Promise.reject(new Error('release failed')));
            ctx.cookies.set('said', 'done', { signed: false });
            ctx.redirect('/elsewhere');
          }
          const { rows } = await db.raw('SELECT txid_current()::text AS id');
          const pending = await db(TABLE).where('tag', 'like', `${tag}:%`).first();
          ctx.body = { txid: rows[0].id, ranYet: Boolean(pending) };
          if (ctx.query.fail) ctx.status = 500;
          return;
        }
        case '/after-commit': {
          await put();
          const deferred = afterRequestCommit(() => committedTags.push(tag));
          ctx.body = { deferred, ranYet: committedTags.includes(tag) };
          if (ctx.query.fail) ctx.status = 500;
          return;
        }
        case '/join': {
          await put();
          const inner = await joinRequestTransaction(db, async (trx) => {
            await trx(TABLE).insert({ tag: `${tag}-joined` });
            return (await trx.raw('SELECT txid_current()::text AS id')).rows[0].id as string;
          });
          const outer = (await db.raw('SELECT txid_current()::text AS id')).rows[0].id as string;
          ctx.body = { same: inner === outer };
          if (ctx.query.fail) throw new Error('boom');
          return;
        }
        case '/concurrent': {
          // As oidc-provider reads models: several queries at once, the first one beginning the transaction.
          const [, , slow, quick] = await Promise.all([
            db(TABLE).insert({ tag }),
            db(TABLE).insert({ tag: `${tag}-2` }),
            db.raw('SELECT pg_sleep(0.02), 1 AS n'),
            db.raw('SELECT 2 AS n'),
          ]);
          ctx.body = { n: [slow.rows[0].n, quick.rows[0].n] };
          return;
        }
        case '/not-awaited': {
          // Queries handed over but not awaited by the handler: the commit waits for them.
          await db.raw('SELECT 1');
          void db.raw('SELECT pg_sleep(0.05)').then(() => undefined);
          void db(TABLE).insert({ tag }).then(() => undefined);
          ctx.body = 'answered';
          return;
        }
        case '/no-db':
          ctx.body = 'no query';
          return;
        case '/slow-body': {
          // The body arrives before the first query, as with every parser of ours and oidc-provider's.
          arrivedSlow();
          let body = '';
          for await (const chunk of ctx.req) body += String(chunk);
          await db(TABLE).insert({ tag: body });
          ctx.body = 'stored';
          return;
        }
        case '/unscoped':
          await put();
          ctx.body = { seenOutside: Boolean(await pool(TABLE).where({ tag }).first()) };
          return;
        default:
          ctx.status = 404;
      }
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await close(server);
    await pool.schema.dropTableIfExists(TABLE);
    await pool.destroy();
  });

  const exists = async (tag: string) => Boolean(await pool(TABLE).where({ tag }).first());

  const get = (path: string, tag: string) => fetch(`${url}${path}?tag=${encodeURIComponent(tag)}`);

  it('keeps a request in one transaction and commits it before the response arrives', async () => {
    const res = await get('/ok', 'a');
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ seenOutside: false, seenInside: true });
    expect(await exists('a')).to.equal(true);
  });

  it('commits a request refused with a client error (an audit entry of a refusal stays)', async () => {
    expect((await get('/client-error', 'b')).status).to.equal(409);
    expect(await exists('b')).to.equal(true);
  });

  it('rolls back everything a request wrote when it fails with a server error, thrown or set', async () => {
    expect((await get('/server-error', 'c')).status).to.equal(500);
    expect((await get('/5xx-status', 'd')).status).to.equal(503);
    expect(await exists('c')).to.equal(false);
    expect(await exists('d')).to.equal(false);
  });

  it('turns inTransaction into a savepoint: a failed inner step is undone, the rest commits', async () => {
    expect((await get('/savepoint', 'e')).status).to.equal(200);
    expect(await exists('e')).to.equal(true);
    expect(await exists('e-inner')).to.equal(false);
  });

  it('never reports success for a transaction a swallowed error aborted', async () => {
    expect((await get('/swallowed', 'f')).status).to.equal(500);
    expect(await exists('f')).to.equal(false);
    expect(committedTags, 'after-commit work of a COMMIT that answered ROLLBACK').to.not.include('f');
  });

  it('settles before a handler that writes the raw response, so the next request sees the write', async () => {
    const res = await get('/raw-response', 'g');
    expect(await res.text()).to.equal('written');
    expect(await exists('g')).to.equal(true);
  });

  it('leaves a skipped request on the pool, each statement committed at once', async () => {
    expect(await (await get('/unscoped', 'h')).json()).to.deep.equal({ seenOutside: true });
  });

  it('remembers a read for the rest of the request until it is forgotten, and never across requests', async () => {
    const body = { first: 1, again: 1, afterForget: 2, loads: 2 };
    expect(await (await get('/memo', 'j')).json()).to.deep.equal(body);
    expect(await (await get('/memo', 'k')).json()).to.deep.equal(body);
    let loads = 0;
    await memoInRequest('k', async () => ++loads);
    await memoInRequest('k', async () => ++loads);
    expect(loads).to.equal(2);
  });

  it('runs work left for the commit last, inside the request transaction, and not at all on a rollback', async () => {
    const res = await get('/at-commit', 'n');
    const body = (await res.json()) as { txid: string; ranYet: boolean };
    expect(body.ranYet).to.equal(false);
    expect(await exists(`n:${body.txid}`)).to.equal(true);
    expect((await fetch(`${url}/at-commit?tag=o&fail=1`)).status).to.equal(500);
    expect(await pool(TABLE).where('tag', 'like', 'o%')).to.deep.equal([]);
    // Work left for the commit that fails: the request fails, nothing commits, and the connection is back.
    const tarn = (pool.client as { pool: { numUsed(): number } }).pool;
    const failed = await fetch(`${url}/at-commit?tag=o2&failAtCommit=1`, { redirect: 'manual' });
    expect(failed.status).to.equal(500);
    // Nothing the answer said happened did: its cookie and redirect are gone.
    expect(failed.headers.get('set-cookie')).to.equal(null);
    expect(failed.headers.get('location')).to.equal(null);
    expect(await pool(TABLE).where('tag', 'like', 'o2%')).to.deep.equal([]);
    expect(tarn.numUsed()).to.equal(0);
    // Outside a request: at once.
    await atCommit(pool, (conn) => conn(TABLE).insert({ tag: 'p' }));
    expect(await exists('p')).to.equal(true);
  });

  it('runs after-commit work once the request committed, before its response, and never after a rollback', async () => {
    expect(await (await get('/after-commit', 'ac')).json()).to.deep.equal({ deferred: true, ranYet: false });
    expect(committedTags).to.include('ac');
    expect(await exists('ac')).to.equal(true);
    expect((await fetch(`${url}/after-commit?tag=ad&fail=1`)).status).to.equal(500);
    expect(committedTags).to.not.include('ad');
    expect(await exists('ad')).to.equal(false);
    // Outside a request: nothing is deferred and nothing runs; the caller decides.
    expect(afterRequestCommit(() => committedTags.push('outside'))).to.equal(false);
    expect(committedTags).to.not.include('outside');
  });

  it('joins work that no caller recovers from to the request transaction, without a savepoint', async () => {
    const seen = await sqlDuring(pool, async () => {
      expect(await (await get('/join', 'q')).json()).to.deep.equal({ same: true });
    });
    expect(seen.filter((q) => /SAVEPOINT/i.test(q))).to.deep.equal([]);
    expect(await exists('q-joined')).to.equal(true);
    // A failure fails the request, and all of it rolls back.
    expect((await fetch(`${url}/join?tag=r&fail=1`)).status).to.equal(500);
    expect(await exists('r-joined')).to.equal(false);
    // Outside a request: a transaction of its own.
    await joinRequestTransaction(db, (trx) => trx(TABLE).insert({ tag: 's' }));
    expect(await exists('s')).to.equal(true);
  });

  it('hands a request\'s concurrent queries to its connection one at a time (pg@9 refuses a busy client)', async () => {
    let inFlight = 0;
    let most = 0;
    const sent = (q: { sql: string }) => {
      if (!/pg_sleep|SELECT 2|insert into/i.test(q.sql)) return;
      most = Math.max(most, ++inFlight);
    };
    const done = (_r: unknown, q: { sql: string }) => {
      if (/pg_sleep|SELECT 2|insert into/i.test(q.sql)) inFlight--;
    };
    pool.on('query', sent).on('query-response', done);
    try {
      expect(await (await get('/concurrent', 't')).json()).to.deep.equal({ n: [1, 2] });
    } finally {
      pool.off('query', sent).off('query-response', done);
    }
    expect(most).to.equal(1);
    expect(await exists('t-2')).to.equal(true);
  });

  it('commits only after the queries a request handed over, even those it did not wait for', async () => {
    expect(await (await get('/not-awaited', 'u')).text()).to.equal('answered');
    expect(await exists('u')).to.equal(true);
  });

  it('begins no transaction for a request that makes no query', async () => {
    const seen = await sqlDuring(pool, async () => {
      expect(await (await get('/no-db', 'x')).text()).to.equal('no query');
      expect((await get('/ok', 'l')).status).to.equal(200);
    });
    // BEGIN travels with a transaction's first statement (db/pg-client.ts): count the transactions by their COMMIT.
    expect(seen.filter((q) => /^COMMIT/i.test(q))).to.have.length(1);
  });

  it('holds no connection while a client trickles its body in', async () => {
    // Every connection but one is busy elsewhere; the slow client must not take the last one.
    const tarn = (pool.client as { pool: { max: number; numUsed(): number; numPendingAcquires(): number } }).pool;
    const held = await Promise.all(Array.from({ length: tarn.max - tarn.numUsed() - 1 }, () => pool.client.acquireConnection()));
    expect(tarn.max - tarn.numUsed()).to.equal(1);
    const slow = request(`${url}/slow-body`, { method: 'POST', headers: { 'content-length': '11' } });
    try {
      const answered = new Promise<string>((resolve, reject) => {
        slow.on('response', (res) => {
          let text = '';
          res.on('data', (c) => (text += String(c)));
          res.on('end', () => resolve(text));
        });
        slow.on('error', reject);
      });
      slow.write('slow-');
      // The server is reading its body now (past every middleware, the scope's included).
      await slowArrived;
      // Meanwhile another request gets the free connection at once.
      const quick = await Promise.race([get('/savepoint', 'm').then((r) => r.status), new Promise((r) => setTimeout(() => r('timed out'), 3000))]);
      expect(quick).to.equal(200);
      slow.end('client');
      expect(await answered).to.equal('stored');
      expect(await exists('slow-client')).to.equal(true);
    } finally {
      if (!slow.writableEnded) slow.destroy();
      for (const c of held) await pool.client.releaseConnection(c);
    }
  });

  it('falls back to the pool outside any request', async () => {
    await db(TABLE).insert({ tag: 'i' });
    expect(await exists('i')).to.equal(true);
  });
});
