import { expect } from 'chai';
import * as client from 'openid-client';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { loginToken, paymentToken } from '../resource-server/tokens.ts';
import { startDemoSite, type RunningDemo } from './demo-server.ts';

describe('demo member site: its resource server (/api/items) and pages, over HTTP', () => {
  let ts: TestServer;
  let demo: RunningDemo;
  let site: TestSite;
  let login: string;
  let episode: string;
  /** A login token whose request asked for age_over_19 (a claims request): the free 19+ item's. */
  let over19: string;

  before(async () => {
    ts = await startCardManager();
    demo = await startDemoSite(ts);
    site = { clientId: demo.clientId, clientSecret: demo.clientSecret, redirectUri: `${demo.url}/callback`, postLogoutUri: `${demo.url}/`, resource: demo.resource };
    const cfg = await siteClient(ts, site);
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 50_000 });
    login = await loginToken(ts, cfg, site, card);
    episode = await paymentToken(ts, cfg, site, card, { amount: '1500', content_ref: 'episode-1' });
    const req = await authRequest(cfg, site, { scope: 'openid', resource: site.resource, claims: JSON.stringify({ id_token: { age_over_19: { essential: true } } }) });
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`the gated login ended on a ${result.status} page`);
    over19 = (await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce })).access_token;
  });
  after(async () => {
    await demo?.stop();
    await ts?.stop();
  });

  const api = (id: string, token?: string) => fetch(`${demo.url}/api/items/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('delivers a paid item for the token that paid for it, with its approval number', async () => {
    const res = await api('episode-1', episode);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { content: string; approval_no: string };
    expect(body.content).to.include('Episode 1');
    expect(body.approval_no).to.match(/^\d{4}-\d{4}$/);
  });

  it('delivers a members’ item on a plain login token, and refuses paid and 19+ items on it', async () => {
    expect((await api('newsletter', login)).status).to.equal(200);
    for (const id of ['episode-1', 'late-night', 'late-night-trailer']) {
      const res = await api(id, login);
      expect(res.status, id).to.equal(403);
      expect(res.headers.get('www-authenticate')).to.match(/error="insufficient_scope"/);
    }
  });

  it('delivers the free 19+ item on a token whose request asked for age_over_19, and nothing paid on it', async () => {
    const res = await api('late-night-trailer', over19);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { content: string }).content).to.include('late-night special');
    for (const id of ['late-night', 'episode-1']) expect((await api(id, over19)).status, id).to.equal(403);
  });

  it('refuses a payment for one item used for another, a dearer one or the 19+ section', async () => {
    for (const id of ['album', 'late-night']) expect((await api(id, episode)).status, id).to.equal(403);
  });

  it('answers no token, a garbage token and an unknown item with the right status', async () => {
    const none = await api('episode-1');
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.equal('Bearer realm="demo"');
    const junk = await api('episode-1', 'not.a.token');
    expect(junk.status).to.equal(401);
    expect(junk.headers.get('www-authenticate')).to.match(/error="invalid_token"/);
    expect((await api('no-such-item', login)).status).to.equal(404);
  });

  it('answers bad page requests with a 4xx page, never a 500', async () => {
    const cases: Array<[string, number]> = [
      ['/items/no-such-item', 404],
      ['/items/trailer/buy', 404],
      ['/items/late-night-trailer/buy', 404],
      ['/items/trailer/enter', 404],
      ['/items/late-night/enter', 404],
      ['/items/no-such-item/enter', 404],
      ['/items/no-such-item/buy', 404],
      ['/callback?code=forged&state=forged', 400],
      ['/callback?error=access_denied', 400],
    ];
    for (const [path, status] of cases) {
      const res = await fetch(`${demo.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).to.equal(status);
      expect(await res.text()).to.include('<h1>');
    }
    // A free public item needs nothing; a paid one offers the purchase.
    expect(await (await fetch(`${demo.url}/items/trailer`)).text()).to.include('Ninety seconds');
    expect(await (await fetch(`${demo.url}/items/album`)).text()).to.include('Buy for');
  });
});
