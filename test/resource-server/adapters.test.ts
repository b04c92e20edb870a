import { expect } from 'chai';
import Koa from 'koa';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  authenticateRequest,
  challenge,
  createResourceServer,
  expressBearer,
  koaBearer,
  requireAge,
  TokenError,
  type BearerRequest,
  type ResourceServer,
} from 'cybercard/resource-server';
import { close } from '../../src/server.ts';
import { issueTestCard, registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { loginToken } from './tokens.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The three adapters, each protecting GET / with requireAge(15), answering the token's sub. */
function adapters(rs: ResourceServer): Record<string, Handler> {
  const koa = new Koa();
  koa.use(koaBearer(rs, requireAge(15)));
  koa.use((ctx) => {
    ctx.body = { sub: (ctx.state.accessToken as { sub: string }).sub };
  });

  const mw = expressBearer<BearerRequest>(rs, requireAge(15));
  const express: Handler = (req, res) =>
    mw(req, res, (err?: unknown) => {
      res.statusCode = err ? 500 : 200;
      res.end(JSON.stringify(err ? { error: 'server_error' } : { sub: (req as BearerRequest).accessToken!.sub }));
    });

  const plain: Handler = (req, res) =>
    void authenticateRequest(rs, req, res, requireAge(15)).then((token) => {
      if (!token) return;
      res.end(JSON.stringify({ sub: token.sub }));
    });

  return { koa: koa.callback() as Handler, express, 'node:http': plain };
}

describe('cybercard/resource-server: Koa, Express-style and node:http adapters', () => {
  let ts: TestServer;
  let site: TestSite;
  let adultToken: string;
  let plainToken: string;
  const servers: Server[] = [];
  const urls: Record<string, string> = {};

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts, { contentRating: 15 });
    const cfg = await siteClient(ts, site);
    adultToken = await loginToken(ts, cfg, site, await issueTestCard(ts));
    // The same holder at a site without a rating: the token carries no age claim.
    const unrated = await registerTestSite(ts);
    const unratedCfg = await siteClient(ts, unrated);
    plainToken = await loginToken(ts, unratedCfg, unrated, await issueTestCard(ts));
    const rs = createResourceServer({ issuer: ts.url, audience: [site.resource, unrated.resource], realm: 'shop' });
    for (const [name, handler] of Object.entries(adapters(rs))) {
      const server = createServer(handler);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    }
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await close(s);
    }
    await ts.stop();
  });

  for (const name of ['koa', 'express', 'node:http']) {
    describe(name, () => {
      const get = (authorization?: string) => fetch(urls[name]!, { headers: authorization ? { authorization } : {} });

      it('lets a valid token through with its claims', async () => {
        const res = await get(`Bearer ${adultToken}`);
        expect(res.status).to.equal(200);
        expect(((await res.json()) as { sub: string }).sub).to.be.a('string');
      });

      it('answers no token with 401 and a bare Bearer challenge (RFC 6750 §3.1)', async () => {
        for (const auth of [undefined, 'Basic dXNlcjpwYXNz']) {
          const res = await get(auth);
          expect(res.status).to.equal(401);
          expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="shop"');
          expect(res.headers.get('cache-control')).to.equal('no-store');
        }
      });

      it('answers a malformed Authorization header with 400 invalid_request', async () => {
        const res = await get('Bearer two words');
        expect(res.status).to.equal(400);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer realm="shop", error="invalid_request"/);
      });

      it('answers a bad token with 401 invalid_token and a description', async () => {
        const res = await get('Bearer not.a.token');
        expect(res.status).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer realm="shop", error="invalid_token", error_description="[^"]+"$/);
        expect(((await res.json()) as { error: string }).error).to.equal('invalid_token');
      });

      it('answers an unmet requirement with 403 insufficient_scope', async () => {
        const res = await get(`Bearer ${plainToken}`);
        expect(res.status).to.equal(403);
        expect(res.headers.get('www-authenticate')).to.match(/error="insufficient_scope"/);
        expect(((await res.json()) as { error_description: string }).error_description).to.match(/15 and over/);
      });
    });
  }

  it('keeps quotes, backslashes and non-ASCII out of the challenge', () => {
    const header = challenge(new TokenError('invalid_token', 'bad "quote" \\ 한글'), 'shop');
    expect(header).to.equal('Bearer realm="shop", error="invalid_token", error_description="bad ?quote? ? ??"');
  });
});
