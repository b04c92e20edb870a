import { expect } from 'chai';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, pushedRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
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

describe("the card manager's own API as a resource (<issuer>/api): client_credentials only", () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let cfg: client.Configuration;
  let api: string;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    card = await issueTestCard(ts);
    cfg = await siteClient(ts, site);
    api = `${ts.url}/api`;
  });
  after(() => ts.stop());

  it('refuses a pushed authorization request naming it with invalid_target', async () => {
    expect(await oauthError(pushedRequest(cfg, site, { resource: api, scope: 'openid approvals' }))).to.equal('invalid_target');
    // Beside the site's own resource server, too: the holder's sign-in never yields a token for the API.
    const both = client.buildAuthorizationUrlWithPAR(cfg, {
      redirect_uri: site.redirectUri,
      scope: 'openid read approvals',
      resource: [site.resource, api] as unknown as string,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    expect(await oauthError(both)).to.equal('invalid_target');
  });

  it('refuses an authorization request naming it: back to the site with error=invalid_target, no login page', async () => {
    const req = await authRequest(cfg, site, { resource: api, scope: 'openid approvals' });
    const res = await fetch(req.url, { redirect: 'manual' });
    expect(res.status).to.be.within(300, 399);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).to.equal(site.redirectUri);
    expect(back.searchParams.get('error')).to.equal('invalid_target');
    expect(back.searchParams.get('state')).to.equal(req.state);
  });

  it('refuses a refresh naming it for a grant that holds it (one given before this rule) with invalid_target', async () => {
    const req = await authRequest(cfg, site, { resource: site.resource, scope: 'openid offline_access read' });
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got ${result.status}`);
    const tokens = await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    // The grant and refresh token as an older card manager stored them after a sign-in that asked for the API too.
    const stored = await ts.db('oidc_payloads').where({ model: 'RefreshToken', id: tokens.refresh_token }).first<{ grant_id: string }>();
    expect(stored, 'the refresh token row').to.not.equal(undefined);
    await ts.db('oidc_payloads').where({ model: 'RefreshToken', id: tokens.refresh_token }).update({
      payload: ts.db.raw(`payload || ?::jsonb`, [JSON.stringify({ resource: [site.resource, api], scope: 'openid offline_access read approvals' })]),
    });
    await ts.db('oidc_payloads').where({ model: 'Grant', id: stored!.grant_id }).update({
      payload: ts.db.raw(`jsonb_set(payload, '{resources}', coalesce(payload->'resources', '{}'::jsonb) || ?::jsonb)`, [JSON.stringify({ [api]: 'approvals' })]),
    });
    expect(await oauthError(client.refreshTokenGrant(cfg, tokens.refresh_token!, { resource: api }))).to.equal('invalid_target');
  });

  it("still gives the site's client_credentials token for it (sub is the client_id, scope approvals)", async () => {
    const { access_token: token } = await client.clientCredentialsGrant(cfg, { resource: api, scope: 'approvals' });
    expect(decodeJwt(token)).to.include({ aud: api, sub: site.clientId, client_id: site.clientId, scope: 'approvals' });
  });

  it("leaves the site's own resource server alone: a holder's sign-in and client_credentials both get tokens for it", async () => {
    const req = await authRequest(cfg, site, { resource: site.resource, scope: 'openid read' });
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got ${result.status}`);
    const tokens = await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(decodeJwt(tokens.access_token)).to.include({ aud: site.resource, client_id: site.clientId, scope: 'read' });
    expect(await oauthError(pushedRequest(cfg, site, { scope: 'openid read' })).catch((e: Error) => e.message)).to.equal('expected the request to be refused');
    const cc = await client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' });
    expect(decodeJwt(cc.access_token)).to.include({ aud: site.resource, sub: site.clientId });
  });
});
