import type Router from '@koa/router';
import { expect } from 'chai';
import { ForwardedAgent, location } from '../helpers/agent.ts';
import { uniqueIp } from '../helpers/applicant.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * Every /card/... address that only takes posts, and the page its form is on: a GET of one (a reload of the page a post
 * answered, a bookmark, a sign-in's way back) goes on there instead of a 404.
 */
const FORM_PAGES: Readonly<Record<string, string>> = {
  '/card/signout': '/card/account',
  '/card/lost/confirm': '/card/lost',
  '/card/reissue/confirm': '/card/reissue',
  '/card/password/reset/confirm': '/card/password/reset',
  '/card/security/totp': '/card/security',
  '/card/security/totp/confirm': '/card/security',
  '/card/contacts/language': '/card/contacts',
  '/card/wards/:accountId/limit': '/card/wards',
  '/card/data/file': '/card/data',
};

describe('a GET of a /card/... address that only takes posts', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts?.stop());

  /** The app's own routes: the /card/... paths some router takes posts at, and those it answers GETs at. */
  function cardRoutes(): { postOnly: string[] } {
    const routers = (ts.cm.app.middleware as Array<{ router?: Router }>).flatMap((m) => (m.router ? [m.router] : []));
    const layers = routers.flatMap((r) => r.stack).filter((l) => typeof l.path === 'string' && l.path.startsWith('/card/'));
    const gets = new Set(layers.filter((l) => l.methods.includes('GET')).map((l) => l.path as string));
    const posts = new Set(layers.filter((l) => l.methods.includes('POST')).map((l) => l.path as string));
    return { postOnly: [...posts].filter((p) => !gets.has(p)).sort() };
  }

  const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, '0b5d6f3e-7c1a-4f21-9a53-2d8c4e1f0a77');

  it('is listed here for every such address the app has', () => {
    expect(cardRoutes().postOnly).to.deep.equal(Object.keys(FORM_PAGES).sort());
  });

  it("goes on to its form's page for a signed-in holder, HEAD too, and changes nothing", async () => {
    const card = await issueTestCard(ts);
    const agent = await signedInHolder(ts.url, card);
    const audits = async () => (await ts.db('audit_log').count('* as n').first())!.n;
    const before = await audits();
    for (const [path, page] of Object.entries(FORM_PAGES)) {
      for (const method of ['GET', 'HEAD']) {
        const res = await agent.request(concrete(path), { method });
        expect(res.status, `${method} ${path}`).to.equal(303);
        expect(location(res, ts.url).pathname, `${method} ${path}`).to.equal(page);
        expect(location(res, ts.url).search, path).to.equal('');
      }
    }
    // Still signed in (the GET of /card/signout signed nobody out), and nothing was written.
    expect((await agent.get('/card/account')).status).to.equal(200);
    expect(await audits()).to.equal(before);
  });

  it("goes on to its form's page for a visitor too, which sends them to sign in if it needs to", async () => {
    const visitor = new ForwardedAgent(ts.url, uniqueIp());
    for (const [path, page] of Object.entries(FORM_PAGES)) {
      const res = await visitor.get(concrete(path));
      expect(res.status, path).to.equal(303);
      expect(location(res, ts.url).pathname, path).to.equal(page);
    }
  });

  it('leaves alone what is not such an address: unknown pages, the JSON API, other methods', async () => {
    const agent = new ForwardedAgent(ts.url, uniqueIp());
    expect((await agent.get('/card/no-such-page')).status).to.equal(404);
    expect((await agent.get('/card/security/totp/nothing')).status).to.equal(404);
    expect((await agent.get('/api/holder/data')).status).to.be.oneOf([401, 404, 405]);
    expect((await agent.request('/card/signout', { method: 'DELETE' })).status).to.equal(404);
  });
});
