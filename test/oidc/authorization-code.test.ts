import { expect } from 'chai';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('authorization code flow with PKCE', () => {
  let ts: TestServer;
  let site: TestSite;
  let card: TestCard;
  let config: client.Configuration;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    card = await issueTestCard(ts);
    config = await siteClient(ts, site);
  });
  after(() => ts.stop());

  async function loginAndExchange(params: Record<string, string> = {}) {
    const req = await authRequest(config, site, params);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got ${result.status}`);
    const tokens = await client.authorizationCodeGrant(config, result.url, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    return { req, redirect: result.url, tokens };
  }

  it('logs a card holder in through the hosted form and returns code, ID token and refresh token', async () => {
    const { tokens } = await loginAndExchange({ resource: site.resource });
    expect(tokens.access_token).to.be.a('string');
    expect(tokens.refresh_token).to.be.a('string');
    const claims = tokens.claims()!;
    expect(claims.iss).to.equal(ts.url);
    expect(claims.aud).to.equal(site.clientId);
    expect(claims.sub).to.be.a('string').and.not.equal(card.accountId);
  });

  it('issues a JWT access token (RFC 9068) that verifies against the JWKS with iss, aud, pairwise sub, client_id, typ', async () => {
    const { tokens } = await loginAndExchange({ resource: site.resource });
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header.typ).to.equal('at+jwt');
    expect(header.alg).to.equal('ES256');
    const jwks = createRemoteJWKSet(new URL(`${ts.url}/jwks`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: ts.url,
      audience: site.resource,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(payload.client_id).to.equal(site.clientId);
    expect(payload.sub).to.equal(tokens.claims()!.sub);
    expect(payload.sub).to.not.equal(card.accountId);
  });

  it('issues Bearer tokens only: a DPoP proof at /token binds nothing, since the kit and the approvals API take Bearer tokens', async () => {
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const req = await authRequest(config, site, { resource: site.resource });
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got ${result.status}`);
    const tokens = await client.authorizationCodeGrant(
      config,
      result.url,
      { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce },
      undefined,
      { DPoP },
    );
    expect(tokens.token_type.toLowerCase()).to.equal('bearer');
    expect(decodeJwt(tokens.access_token)).to.not.have.property('cnf');
    const cc = await client.clientCredentialsGrant(config, { resource: `${ts.url}/api`, scope: 'approvals' }, { DPoP });
    expect(cc.token_type.toLowerCase()).to.equal('bearer');
    expect(decodeJwt(cc.access_token)).to.not.have.property('cnf');
  });

  it('gives two member sites different subjects for the same card [pairwise]', async () => {
    const other = await registerTestSite(ts);
    const otherConfig = await siteClient(ts, other);
    const req = await authRequest(otherConfig, other);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error('no redirect');
    const otherTokens = await client.authorizationCodeGrant(otherConfig, result.url, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    const { tokens } = await loginAndExchange();
    expect(otherTokens.claims()!.sub).to.not.equal(tokens.claims()!.sub);
  });

  it('gives two member sites on one host different subjects too: per site, not per sector (host)', async () => {
    const sameHost = new URL('/elsewhere/callback', site.redirectUri).href;
    const registered = await registerTestSite(ts, { redirectUris: [sameHost], postLogoutRedirectUris: [new URL('/', sameHost).href] });
    const neighbour: TestSite = { ...registered, redirectUri: sameHost };
    const neighbourConfig = await siteClient(ts, neighbour);
    const req = await authRequest(neighbourConfig, neighbour);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error('no redirect');
    const neighbourTokens = await client.authorizationCodeGrant(neighbourConfig, result.url, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    const { tokens } = await loginAndExchange();
    expect(neighbourTokens.claims()!.sub).to.not.equal(tokens.claims()!.sub);
  });

  it('shows an error on the login page for a wrong password and issues no code', async () => {
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, { number: card.number, password: 'typed-secret-zq' });
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.equal(401);
    expect(result.html).to.include('The card number or password is not correct.');
    // The typed password is never written back into the page.
    expect(result.html).to.not.include('typed-secret-zq');
  });

  it('answers an unknown card number exactly like a wrong password', async () => {
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, { number: '4111 1111 1111 1111', password: card.password });
    expect(result.kind).to.equal('page');
    if (result.kind !== 'page') return;
    expect(result.status).to.equal(401);
    expect(result.html).to.include('The card number or password is not correct.');
  });

  it('accepts a card number typed with spaces or dashes', async () => {
    const dashed = card.number.replace(/(\d{4})(?=\d)/g, '$1-');
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, { number: dashed, password: card.password });
    expect(result.kind).to.equal('redirect');
  });

  it('sends access_denied back to the member site when the holder cancels', async () => {
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, card, { deny: true });
    expect(result.kind).to.equal('redirect');
    if (result.kind !== 'redirect') return;
    expect(result.url.searchParams.get('error')).to.equal('access_denied');
    // Coded like the card manager's refusals: the site branches on the first word.
    expect(result.url.searchParams.get('error_description')).to.equal('cancelled: the card holder cancelled the request.');
    expect(result.url.searchParams.get('code')).to.equal(null);
  });

  it('refuses a request without PKCE', async () => {
    const req = await authRequest(config, site);
    req.url.searchParams.delete('code_challenge');
    req.url.searchParams.delete('code_challenge_method');
    const res = await new Agent(ts.url).get(req.url);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.origin + loc.pathname).to.equal(site.redirectUri);
    expect(loc.searchParams.get('error')).to.equal('invalid_request');
    expect(loc.searchParams.get('error_description')).to.match(/PKCE|code_challenge/);
  });

  it('refuses the plain PKCE method', async () => {
    const req = await authRequest(config, site);
    req.url.searchParams.set('code_challenge_method', 'plain');
    const res = await new Agent(ts.url).get(req.url);
    const loc = new URL(res.headers.get('location')!);
    expect(loc.searchParams.get('error')).to.equal('invalid_request');
  });

  it('refuses a redirect_uri that is not registered exactly, without redirecting', async () => {
    for (const bad of [`${site.redirectUri}/extra`, `${site.redirectUri}?x=1`, site.redirectUri.replace('https', 'http')]) {
      const req = await authRequest(config, site, { redirect_uri: bad });
      const res = await new Agent(ts.url).get(req.url);
      expect(res.status, bad).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
      expect(await res.text()).to.include('redirect_uri');
    }
  });

  it('refuses a code used twice and revokes the tokens it issued [replay]', async () => {
    const { req, redirect, tokens } = await loginAndExchange();
    let replay: unknown;
    try {
      await client.authorizationCodeGrant(config, redirect, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
    } catch (err) {
      replay = err;
    }
    expect(replay).to.be.instanceOf(client.ResponseBodyError);
    expect((replay as client.ResponseBodyError).error).to.equal('invalid_grant');
    const intro = await client.tokenIntrospection(config, tokens.access_token);
    expect(intro.active).to.equal(false);
    const introRefresh = await client.tokenIntrospection(config, tokens.refresh_token!);
    expect(introRefresh.active).to.equal(false);
  });

  it('rotates refresh tokens and refuses the old one', async () => {
    const { tokens } = await loginAndExchange();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    let reuse: unknown;
    try {
      await client.refreshTokenGrant(config, tokens.refresh_token!);
    } catch (err) {
      reuse = err;
    }
    expect((reuse as client.ResponseBodyError).error).to.equal('invalid_grant');
  });

  /** Runs `n` calls at once; their outcomes, each 'ok' or the OAuth error code. */
  async function raced(n: number, call: () => Promise<unknown>): Promise<string[]> {
    const settled = await Promise.allSettled(Array.from({ length: n }, call));
    return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : s.reason instanceof client.ResponseBodyError ? s.reason.error : String(s.reason)));
  }

  it('redeems a code once when a member site sends it many times at once [replay race]', async () => {
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error(`expected a redirect, got ${result.status}`);
    const outcomes = await raced(8, () =>
      client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce }),
    );
    expect(outcomes.filter((o) => o === 'ok')).to.have.length(1);
    expect(outcomes.filter((o) => o !== 'ok')).to.satisfy((errs: string[]) => errs.every((e) => e === 'invalid_grant'));
  });

  it('rotates a refresh token once when it is sent many times at once: one new refresh token, not a fork of the grant', async () => {
    const { tokens } = await loginAndExchange();
    const [{ grant_id: grantId }] = await ts.db('oidc_payloads').where({ model: 'RefreshToken', id: tokens.refresh_token! }).select('grant_id');
    const rotated = new Set<string>();
    const outcomes = await raced(8, async () => rotated.add((await client.refreshTokenGrant(config, tokens.refresh_token!)).refresh_token!));
    expect(outcomes.filter((o) => o === 'ok')).to.have.length(1);
    expect(outcomes.filter((o) => o !== 'ok')).to.satisfy((errs: string[]) => errs.every((e) => e === 'invalid_grant'));
    expect(rotated.size).to.equal(1);
    // The grant holds the old token and the one new one; or nothing, when a loser came after the winner's commit,
    // saw a reused token, and oidc-provider revoked the grant (what reuse detection is for). Never a loser's token.
    const left = await ts.db('oidc_payloads').where({ model: 'RefreshToken', grant_id: grantId }).pluck('id');
    if (left.length) expect(left).to.have.members([tokens.refresh_token, ...rotated]);
  });

  it('reports a revoked token inactive at introspection', async () => {
    const { tokens } = await loginAndExchange();
    const before = await client.tokenIntrospection(config, tokens.access_token);
    expect(before.active).to.equal(true);
    await client.tokenRevocation(config, tokens.access_token);
    const after = await client.tokenIntrospection(config, tokens.access_token);
    expect(after.active).to.equal(false);
  });

  it('answers userinfo with the pairwise subject and the consented name', async () => {
    const { tokens } = await loginAndExchange();
    const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info.name).to.equal('Test Holder');
  });

  it("refuses a resource server's JWT access token at userinfo, saying why, and still refuses a garbage token as before", async () => {
    const { tokens } = await loginAndExchange({ resource: site.resource });
    const res = await fetch(`${ts.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).to.equal(401);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).to.equal('invalid_token');
    // oidc-provider's own words, 'invalid token provided', sent developers looking for a fault in a good token.
    expect(body.error_description).to.match(/JWT access token for .* resource server/);
    expect(res.headers.get('www-authenticate')).to.include('error="invalid_token"').and.include(`error_description="${body.error_description}"`);

    const garbage = await fetch(`${ts.url}/me`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(garbage.status).to.equal(401);
    expect(((await garbage.json()) as { error_description: string }).error_description).to.equal('invalid token provided');
  });

  it('accepts client_secret_post for a site registered with it', async () => {
    const postSite = await registerTestSite(ts, { tokenEndpointAuthMethod: 'client_secret_post' });
    const postConfig = await siteClient(ts, postSite, client.ClientSecretPost(postSite.clientSecret));
    const req = await authRequest(postConfig, postSite);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error('no redirect');
    const tokens = await client.authorizationCodeGrant(postConfig, result.url, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    expect(tokens.access_token).to.be.a('string');
  });

  it('refuses a wrong client secret [invalid_client]', async () => {
    const wrong = await siteClient(ts, site, client.ClientSecretBasic('not-the-secret'));
    const req = await authRequest(config, site);
    const result = await runLogin(new Agent(ts.url), req.url, card);
    if (result.kind !== 'redirect') throw new Error('no redirect');
    let err: unknown;
    try {
      await client.authorizationCodeGrant(wrong, result.url, {
        pkceCodeVerifier: req.verifier,
        expectedState: req.state,
        expectedNonce: req.nonce,
      });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(client.WWWAuthenticateChallengeError);
    const challenge = (err as client.WWWAuthenticateChallengeError).cause[0]!;
    expect(challenge.scheme).to.equal('basic');
    expect(challenge.parameters.error).to.equal('invalid_client');
  });
});
