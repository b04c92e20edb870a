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
import { Agent, startInteraction } from '../helpers/agent.ts';
import { authRequest, registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

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

/**
 * The same inside oidc-provider's endpoints, whose own error handler answers: a member site is told
 * temporarily_unavailable (503, Retry-After), not server_error.
 */
describe('the card manager with no free database connection', () => {
  let ts: TestServer;
  let site: TestSite;

  before(async () => {
    ts = await startCardManager({}, { pool: { poolMax: 1, acquireTimeoutMs: 300 } });
    site = await registerTestSite(ts);
  });
  after(() => ts.stop());

  /** A member site's back-channel POST (client_secret_basic, form body). */
  const postAsSite = (path: string, form: Record<string, string>) =>
    fetch(`${ts.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${site.clientId}:${site.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form),
    });

  /** `call`, made while the instance's only connection is held elsewhere, is answered 503 temporarily_unavailable. */
  async function answersBusyWhileHeld(call: () => Promise<Response>): Promise<void> {
    const held = await ts.db.client.acquireConnection();
    try {
      const res = await call();
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('2');
      expect(await res.json()).to.deep.equal({ error: 'temporarily_unavailable', error_description: 'The card manager is busy. Please try again in a moment.' });
    } finally {
      await ts.db.client.releaseConnection(held);
    }
  }

  it('answers a hosted page whose interaction cannot be read with the busy page (503, Retry-After)', async () => {
    const config = await siteClient(ts, site);
    const agent = new Agent(ts.url);
    const { path } = await startInteraction(agent, (await authRequest(config, site)).url);
    const held = await ts.db.client.acquireConnection();
    try {
      const page = await agent.request(path, { headers: { accept: 'text/html' } });
      expect(page.status).to.equal(503);
      expect(page.headers.get('retry-after')).to.equal('2');
      expect(await page.text()).to.include('The card manager is busy. Please try again in a moment.');
    } finally {
      await ts.db.client.releaseConnection(held);
    }
    expect((await agent.get(path)).status).to.equal(200);
  });

  it('answers a pushed authorization request whose only write finds no connection with 503, and stores nothing', async () => {
    const par = () =>
      postAsSite('/request', { response_type: 'code', client_id: site.clientId, redirect_uri: site.redirectUri, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    // Once, so the member site is kept in memory: the request then needs the database only for its write.
    expect((await par()).status).to.equal(201);
    expect(ts.cm.directory.listening).to.equal(true);
    expect(ts.cm.directory.size).to.be.greaterThan(0);
    const count = async () => Number((await ts.db('oidc_payloads').where({ model: 'PushedAuthorizationRequest' }).count({ n: '*' }).first())!.n);
    const before = await count();
    await answersBusyWhileHeld(par);
    expect(await count()).to.equal(before);
    expect((await par()).status).to.equal(201);
  });

  it('sends a browser back to the member site with temporarily_unavailable when /auth cannot store its interaction', async () => {
    const config = await siteClient(ts, site);
    await startInteraction(new Agent(ts.url), (await authRequest(config, site)).url);
    expect(ts.cm.directory.size).to.be.greaterThan(0);
    const req = await authRequest(config, site);
    const held = await ts.db.client.acquireConnection();
    try {
      const res = await fetch(req.url, { redirect: 'manual' });
      expect(res.status).to.be.oneOf([302, 303]);
      const back = new URL(res.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).to.equal(site.redirectUri);
      expect(back.searchParams.get('error')).to.equal('temporarily_unavailable');
      expect(back.searchParams.get('state')).to.equal(req.state);
    } finally {
      await ts.db.client.releaseConnection(held);
    }
  });

  it('answers the token endpoint with 503 temporarily_unavailable and Retry-After, then serves again', async () => {
    const exchange = () =>
      postAsSite('/token', { grant_type: 'authorization_code', code: 'no-such-code', redirect_uri: site.redirectUri, code_verifier: 'x'.repeat(43) });
    await answersBusyWhileHeld(exchange);
    // A connection free again: the same request gets its ordinary answer.
    const again = await exchange();
    expect(again.status).to.equal(400);
    expect(((await again.json()) as { error: string }).error).to.equal('invalid_grant');
  });
});
