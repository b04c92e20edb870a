import { expect } from 'chai';
import * as client from 'openid-client';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('structured logs', () => {
  let ts: TestServer;
  const lines: string[] = [];

  before(async () => {
    ts = await startCardManager({ logLevel: 'trace' }, { logStream: { write: (l: string) => void lines.push(l) } });
  });
  after(() => ts.stop());

  it('write one JSON line per request with a request id, and never a card number, password or secret', async () => {
    const site = await registerTestSite(ts);
    const card = await issueTestCard(ts);
    const config = await siteClient(ts, site);
    const wrong = await authRequest(config, site);
    await runLogin(new Agent(ts.url), wrong.url, { number: card.number, password: 'Wrong-Password-123' });
    const req = await authRequest(config, site);
    const r = await runLogin(new Agent(ts.url), req.url, card);
    if (r.kind !== 'redirect') throw new Error('login failed');
    const tokens = await client.authorizationCodeGrant(config, r.url, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = parsed.filter((p) => p.msg === 'request');
    expect(requests.length).to.be.greaterThan(5);
    for (const p of requests) expect(p.requestId).to.be.a('string');
    expect(requests.some((p) => p.path === '/interaction/' + String(p.path).split('/')[2] + '/login' && p.status === 401)).to.equal(true);
    // The consent post is answered with the provider's resume of it, and logged as the post it was.
    const consent = requests.filter((p) => /^\/interaction\/[^/]+\/confirm$/.test(String(p.path)));
    expect(consent.map((p) => [p.method, p.status])).to.deep.equal([['POST', 303]]);

    const all = lines.join('\n');
    const spaced = card.number.replace(/(\d{4})(?=\d)/g, '$1 ');
    for (const secret of [card.number, spaced, card.password, 'Wrong-Password-123', site.clientSecret, tokens.refresh_token!]) {
      expect(all, 'a secret was logged').to.not.include(secret);
    }
    expect(all).to.not.include(r.url.searchParams.get('code')!);
  });

  it('say why the provider refused a member site, which its answer does not ("grant request is invalid"), with the request id', async () => {
    const site = await registerTestSite(ts);
    const card = await issueTestCard(ts);
    const config = await siteClient(ts, site);
    const req = await authRequest(config, site);
    const r = await runLogin(new Agent(ts.url), req.url, card);
    if (r.kind !== 'redirect') throw new Error('login failed');
    const before = lines.length;
    let refused: unknown;
    try {
      await client.authorizationCodeGrant(config, r.url, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: req.state, expectedNonce: req.nonce });
    } catch (err) {
      refused = err;
    }
    expect(refused).to.include({ error: 'invalid_grant', error_description: 'grant request is invalid' });
    const parsed = lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    const token = parsed.find((p) => p.msg === 'request' && p.path === '/token');
    const why = parsed.find((p) => p.msg === 'provider refused the request');
    expect(why).to.include({ route: 'token', clientId: site.clientId, error: 'invalid_grant', detail: 'code_verifier does not match code_challenge', level: 30 });
    expect(why!.requestId).to.be.a('string').and.equal(token!.requestId);
  });
});
