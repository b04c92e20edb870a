import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { Agent, runLogin } from '../helpers/agent.ts';
import { announced } from '../helpers/directory.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The OAuth error a refused openid-client call carried, or a failure if the call went through. */
async function oauthError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return (err as { error?: string }).error ?? String(err);
  }
  throw new Error('expected the request to be refused');
}

/**
 * A code exchange refused for its resource (one the code was not granted for, two at once, one the site may no longer
 * have) is refused before the code is spent: the site's retry with the right resource gets its tokens, where a spent
 * code would have been refused invalid_grant, and a replay would have revoked the grant.
 */
describe('/token authorization_code with a resource it cannot have', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let cfg: client.Configuration;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    card = await issueTestCard(ts);
    cfg = await siteClient(ts, site);
  });
  after(() => ts.stop());

  /** The holder signs in to the site for its resource server: the callback URL with the code, and the checks. */
  async function signIn() {
    const req = await authRequest(cfg, site, { resource: site.resource, scope: 'openid offline_access read' });
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got ${result.status}`);
    return { url: result.url, checks: { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce } };
  }

  const twice = (a: string, b: string) => new URLSearchParams([['resource', a], ['resource', b]]);
  const exchange = (url: URL, checks: client.AuthorizationCodeGrantChecks, params: Record<string, string> | URLSearchParams) =>
    client.authorizationCodeGrant(cfg, url, checks, params);

  it('refuses a resource the code was not granted for, or two at once, without spending the code: the right one then works', async () => {
    for (const wrong of [{ resource: 'https://elsewhere.example/' }, { resource: `${ts.url}/api` }, twice(site.resource, site.resource)]) {
      const { url, checks } = await signIn();
      expect(await oauthError(exchange(url, checks, wrong)), String(new URLSearchParams(wrong))).to.equal('invalid_target');
      const tokens = await exchange(url, checks, { resource: site.resource });
      expect(decodeJwt(tokens.access_token)).to.include({ aud: site.resource });
      expect(tokens.refresh_token).to.be.a('string');
    }
  });

  it('refuses the granted resource once the site is no longer registered for it, unspent, and exchanges it once it is again', async () => {
    const { url, checks } = await signIn();
    const registered = (servers: string[]) =>
      announced(ts.cm.directory, `site:${site.clientId}`, () =>
        ts.db('member_sites').where({ client_id: site.clientId }).update({ resource_servers: JSON.stringify(servers) }),
      );
    await registered([]);
    try {
      expect(await oauthError(exchange(url, checks, {}))).to.equal('invalid_target');
    } finally {
      await registered([site.resource]);
    }
    expect(decodeJwt((await exchange(url, checks, {})).access_token)).to.include({ aud: site.resource });
  });

  it('still spends a code once: a second exchange, right resource or wrong, is invalid_grant, and revokes what the first gave', async () => {
    const { url, checks } = await signIn();
    const first = await exchange(url, checks, { resource: site.resource });
    for (const params of [{ resource: 'https://elsewhere.example/' }, { resource: site.resource }]) {
      expect(await oauthError(exchange(url, checks, params)), params.resource).to.equal('invalid_grant');
    }
    expect(await oauthError(client.refreshTokenGrant(cfg, first.refresh_token!, { resource: site.resource }))).to.equal('invalid_grant');
  });

  it('answers a code that is not this site\'s, malformed or unknown as before (invalid_grant), whatever the resource', async () => {
    const other = await registerTestSite(ts);
    const { url } = await signIn();
    const code = url.searchParams.get('code')!;
    const post = async (s: TestSite, params: Record<string, string>) => {
      const res = await fetch(`${ts.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: s.redirectUri, code_verifier: 'x'.repeat(43), ...params }).toString(),
      });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    };
    for (const c of [code, 'not-a-code', 'x'.repeat(5000), '']) {
      const res = await post(other, { code: c, resource: 'https://elsewhere.example/' });
      expect(res.status, c.slice(0, 20)).to.equal(400);
      expect(res.body.error, c.slice(0, 20)).to.be.oneOf(['invalid_grant', 'invalid_request']);
    }
  });
});
