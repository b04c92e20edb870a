import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { openDb, type Db } from '../../src/db/knex.ts';
import { requestScopedDb } from '../../src/db/request-scope.ts';
import { errorHandler } from '../../src/http/error-handler.ts';
import { createRenderer } from '../../src/http/render.ts';
import { requestTransaction } from '../../src/http/request-transaction.ts';
import { close } from '../../src/server.ts';
import { testEnv } from '../helpers/global.ts';

/**
 * A request holds its connection for its whole transaction, so an overloaded instance can run out of
 * them. Then a request waits a short while and is told "busy, try again" (503 with Retry-After),
 * never a minute's hang or a bare 500. The card manager's own error handler and scope, on a pool of one.
 */
describe('an instance with no free database connection', () => {
  let pool: Db;
  let server: Server;
  let url: string;

  before(async () => {
    pool = openDb({ databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, poolMax: 1, acquireTimeoutMs: 300 });
    const db = requestScopedDb(pool);
    const app = new Koa();
    app.use(errorHandler(createRenderer({ cache: true })));
    app.use(requestTransaction());
    app.use(async (ctx) => {
      const r = (await db.raw('SELECT 1 AS one')) as { rows: Array<{ one: number }> };
      ctx.body = { one: r.rows[0]!.one };
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await close(server);
    await pool.destroy();
  });

  it('answers 503 with Retry-After, for an API and for a page, and serves again once a connection is free', async () => {
    expect(await (await fetch(`${url}/api/thing`)).json()).to.deep.equal({ one: 1 });
    const held = await pool.client.acquireConnection();
    try {
      const api = await fetch(`${url}/api/thing`);
      expect(api.status).to.equal(503);
      expect(api.headers.get('retry-after')).to.equal('2');
      expect(await api.json()).to.deep.equal({
        error: 'temporarily_unavailable',
        error_description: 'The card manager is busy. Please try again in a moment.',
      });
      const page = await fetch(`${url}/somewhere`, { headers: { accept: 'text/html' } });
      expect(page.status).to.equal(503);
      expect(await page.text()).to.include('The card manager is busy. Please try again in a moment.');
    } finally {
      await pool.client.releaseConnection(held);
    }
    expect(await (await fetch(`${url}/api/thing`)).json()).to.deep.equal({ one: 1 });
  });
});
