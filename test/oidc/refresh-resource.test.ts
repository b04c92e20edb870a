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
 * A refresh is refused invalid_target for a resource its token cannot have; refused before it is spent, so the site
 * still holds a working refresh token (a spent one, used again, would revoke the whole grant as a replay).
 */
describe('/token refresh_token with a resource it cannot have', () => {
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

  /** The holder signs in to the site, for its resource server or (`resource: false`) for userinfo. */
  async function signIn({ resource = true } = {}) {
    const req = await authRequest(cfg, site, resource ? { resource: site.resource, scope: 'openid offline_access read' } : {});
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got ${result.status}`);
    return { url: result.url, checks: { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce } };
  }

  async function tokens(opts: { resource?: boolean } = {}) {
    const { url, checks } = await signIn(opts);
    return client.authorizationCodeGrant(cfg, url, checks, opts.resource === false ? {} : { resource: site.resource });
  }

  /** Two resource parameters, as a site sends them. */
  const twice = (a: string, b: string) => new URLSearchParams([['resource', a], ['resource', b]]);

  it('refuses a resource the grant does not hold, spending nothing: the same refresh token then works', async () => {
    for (const resource of ['https://elsewhere.example/', `${ts.url}/api`]) {
      const t = await tokens();
      expect(await oauthError(client.refreshTokenGrant(cfg, t.refresh_token!, { resource })), resource).to.equal('invalid_target');
      const again = await client.refreshTokenGrant(cfg, t.refresh_token!, { resource: site.resource });
      expect(decodeJwt(again.access_token)).to.include({ aud: site.resource });
    }
    // A grant for userinfo alone holds no resource server: naming the site's own is refused too, and nothing spent.
    const plain = await tokens({ resource: false });
    expect(await oauthError(client.refreshTokenGrant(cfg, plain.refresh_token!, { resource: site.resource }))).to.equal('invalid_target');
    expect((await client.refreshTokenGrant(cfg, plain.refresh_token!)).access_token).to.be.a('string');
  });

  it('refuses two resources named at once (one access token, one resource), at a refresh and a code exchange', async () => {
    const t = await tokens();
    for (const params of [twice(site.resource, site.resource), twice(site.resource, `${ts.url}/api`)]) {
      expect(await oauthError(client.refreshTokenGrant(cfg, t.refresh_token!, params)), params.toString()).to.equal('invalid_target');
    }
    expect((await client.refreshTokenGrant(cfg, t.refresh_token!, { resource: site.resource })).access_token).to.be.a('string');
    // No quiet fallback to a token for userinfo at the code exchange either.
    const { url, checks } = await signIn();
    expect(await oauthError(client.authorizationCodeGrant(cfg, url, checks, twice(site.resource, site.resource)))).to.equal('invalid_target');
  });

  it('refuses the granted resource once the site is no longer registered for it, and refreshes again once it is', async () => {
    const t = await tokens();
    const registered = (servers: string[]) =>
      announced(ts.cm.directory, `site:${site.clientId}`, () =>
        ts.db('member_sites').where({ client_id: site.clientId }).update({ resource_servers: JSON.stringify(servers) }),
      );
    await registered([]);
    expect(await oauthError(client.refreshTokenGrant(cfg, t.refresh_token!))).to.equal('invalid_target');
    await registered([site.resource]);
    const again = await client.refreshTokenGrant(cfg, t.refresh_token!);
    expect(decodeJwt(again.access_token)).to.include({ aud: site.resource });
  });
});
