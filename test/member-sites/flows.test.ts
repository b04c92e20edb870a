import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { approve } from '../../src/approvals/approve.ts';
import { reinstateSite } from '../../src/member-sites/reinstate.ts';
import { rotateSecret } from '../../src/member-sites/rotate-secret.ts';
import { suspendSite } from '../../src/member-sites/suspend.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { announced } from '../helpers/directory.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The OAuth error a call ends in. */
async function oauthError(p: Promise<unknown>): Promise<{ error?: string; error_description?: string }> {
  try {
    await p;
  } catch (err) {
    // A 401 with a WWW-Authenticate challenge carries the error in the challenge (openid-client).
    const e = err as { error?: string; error_description?: string; cause?: Array<{ parameters?: { error?: string; error_description?: string } }> };
    const challenge = Array.isArray(e.cause) ? e.cause[0]?.parameters : undefined;
    return { error: e.error ?? challenge?.error, error_description: e.error_description ?? challenge?.error_description };
  }
  throw new Error('expected an OAuth error');
}

describe('member sites at the provider: suspension, secret rotation, private_key_jwt', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts.stop());

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  describe('a suspended site', () => {
    let site: TestSite;
    let cfg: client.Configuration;
    let approvalNo: string;

    before(async () => {
      site = await registerTestSite(ts);
      cfg = await siteClient(ts, site);
      const card = await issueTestCard(ts);
      await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 10_000 });
      const a = await approve(
        { db: ts.db, policy: { currency: 'KRW', holdSeconds: 3600 } },
        { accountId: card.accountId, cardId: card.cardId, clientId: site.clientId, amount: 500, currency: 'KRW', description: 'Song', contentRef: null, rating: 0 },
      );
      approvalNo = a.approvalNo;
      await announced(ts.cm.directory, `site:${site.clientId}`, () => suspendSite(ts.db, site.clientId, 'under review'));
    });

    it('cannot push an authorization request (PAR)', async () => {
      const before = await ts.db('oidc_payloads').where({ model: 'PushedAuthorizationRequest' }).count({ n: '*' }).first();
      const err = await oauthError(
        client.buildAuthorizationUrlWithPAR(cfg, {
          redirect_uri: site.redirectUri,
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      expect(err.error).to.be.oneOf(['unauthorized_client', 'invalid_request']);
      // The code first, as in every other refusal's error_description, so a site branches on it alike.
      expect(err.error_description).to.equal('site_suspended: this member site is suspended by the card manager; ask the card manager for the reason.');
      const after = await ts.db('oidc_payloads').where({ model: 'PushedAuthorizationRequest' }).count({ n: '*' }).first();
      expect(Number(after!.n)).to.equal(Number(before!.n));
    });

    it('cannot start a flow at /auth: the site gets an error, never a code', async () => {
      const card = await issueTestCard(ts);
      const req = await authRequest(cfg, site);
      const result = await runLogin(new Agent(ts.url), req.url, card);
      if (result.kind === 'redirect') {
        expect(result.url.searchParams.get('code')).to.equal(null);
        expect(result.url.searchParams.get('error')).to.be.oneOf(['unauthorized_client', 'invalid_request']);
        expect(result.url.searchParams.get('error_description')).to.match(/^site_suspended: this member site is suspended by the card manager/);
      } else {
        expect(result.status).to.equal(400);
      }
    });

    it('reads its approvals as suspended through the status API', async () => {
      const res = await fetch(`${ts.url}/api/approvals/${approvalNo}`, { headers: { authorization: basic(site.clientId, site.clientSecret) } });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { status: string }).status).to.equal('suspended');
    });

    it('gets client_credentials tokens for the card manager\'s own API only, not for its resource servers', async () => {
      const err = await oauthError(client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' }));
      expect(err.error).to.equal('invalid_target');
      const api = await client.clientCredentialsGrant(cfg, { resource: `${ts.url}/api` });
      expect(api.access_token).to.be.a('string');
    });

    it('starts flows again once reinstated', async () => {
      await announced(ts.cm.directory, `site:${site.clientId}`, () => reinstateSite(ts.db, site.clientId, 'review done'));
      const url = await client.buildAuthorizationUrlWithPAR(cfg, {
        redirect_uri: site.redirectUri,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      expect(url.searchParams.get('request_uri')).to.match(/^urn:ietf:params:oauth:request_uri:/);
      const res = await fetch(`${ts.url}/api/approvals/${approvalNo}`, { headers: { authorization: basic(site.clientId, site.clientSecret) } });
      expect(((await res.json()) as { status: string }).status).to.equal('approved');
    });
  });

  describe('the resource servers a site may ask tokens for', () => {
    it('refuses an active site a registered API granted to another site, or one not registered, with invalid_target at PAR and client_credentials', async () => {
      const site = await registerTestSite(ts);
      const other = await registerTestSite(ts);
      const cfg = await siteClient(ts, site);
      const par = async (resource: string) =>
        oauthError(
          client.buildAuthorizationUrlWithPAR(cfg, {
            redirect_uri: site.redirectUri,
            scope: 'openid',
            resource,
            code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
            code_challenge_method: 'S256',
          }),
        );
      for (const resource of [other.resource, 'https://unregistered-api.example.test/']) {
        const pushed = await par(resource);
        expect(pushed, resource).to.deep.equal({ error: 'invalid_target', error_description: 'this member site is not registered for that resource server' });
        expect((await oauthError(client.clientCredentialsGrant(cfg, { resource, scope: 'read' }))).error, resource).to.equal('invalid_target');
      }
      // Its own API it gets, audience and all.
      const own = await client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' });
      expect(JSON.parse(Buffer.from(own.access_token.split('.')[1]!, 'base64url').toString()).aud).to.equal(site.resource);
    });
  });

  describe('secret rotation', () => {
    const grant = (site: TestSite, secret: string) =>
      siteClient(ts, site, client.ClientSecretBasic(secret)).then((cfg) => client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' }));

    it('accepts the new secret at once and the old one during the overlap, at the token endpoint and the API', async () => {
      const site = await registerTestSite(ts);
      const rotated = await announced(ts.cm.directory, `site:${site.clientId}`, () => rotateSecret(ts.db, site.clientId, 3600));
      expect((await grant(site, rotated.clientSecret)).access_token).to.be.a('string');
      expect((await grant(site, site.clientSecret)).access_token).to.be.a('string');
      for (const secret of [site.clientSecret, rotated.clientSecret]) {
        const res = await fetch(`${ts.url}/api/approvals/0000-0000`, { headers: { authorization: basic(site.clientId, secret) } });
        expect(res.status).to.equal(404);
      }
    });

    it('refuses the old secret at once with no overlap, and a secret from before the last rotation', async () => {
      const site = await registerTestSite(ts);
      const first = await announced(ts.cm.directory, `site:${site.clientId}`, () => rotateSecret(ts.db, site.clientId, 3600));
      const second = await announced(ts.cm.directory, `site:${site.clientId}`, () => rotateSecret(ts.db, site.clientId, 0));
      expect((await grant(site, second.clientSecret)).access_token).to.be.a('string');
      for (const old of [site.clientSecret, first.clientSecret]) {
        expect((await oauthError(grant(site, old))).error).to.equal('invalid_client');
      }
    });
  });

  describe('token lifetimes', () => {
    it('gives a site’s tokens its own shorter lifetime, never above the deployment’s', async () => {
      const short = await registerTestSite(ts, { accessTokenTtl: 60 });
      const cfg = await siteClient(ts, short);
      const t = await client.clientCredentialsGrant(cfg, { resource: short.resource, scope: 'read' });
      const claims = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
      expect(claims.exp - claims.iat).to.equal(60);
      const plain = await registerTestSite(ts);
      const p = await client.clientCredentialsGrant(await siteClient(ts, plain), { resource: plain.resource, scope: 'read' });
      const pc = JSON.parse(Buffer.from(p.access_token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
      expect(pc.exp - pc.iat).to.equal(ts.config.oidc.ttl.accessToken);
    });
  });

  describe('private_key_jwt', () => {
    it('authenticates a site with its registered key, and refuses a JWT signed by another key', async () => {
      const mine = await generateKeyPair('ES256', { extractable: true });
      const theirs = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(mine.publicKey)), kid: 'site-key-1', alg: 'ES256', use: 'sig' };
      const site = await registerTestSite(ts, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
      expect(site.clientSecret).to.equal('');
      const ok = await siteClient(ts, site, client.PrivateKeyJwt({ key: mine.privateKey, kid: 'site-key-1' }));
      expect((await client.clientCredentialsGrant(ok, { resource: site.resource, scope: 'read' })).access_token).to.be.a('string');
      for (const kid of ['site-key-1', 'unknown-kid']) {
        const forged = await siteClient(ts, site, client.PrivateKeyJwt({ key: theirs.privateKey, kid }));
        expect((await oauthError(client.clientCredentialsGrant(forged, { resource: site.resource, scope: 'read' }))).error, kid).to.equal('invalid_client');
      }
    });

    it('takes one client assertion once, even when it is sent many times at once', async () => {
      const key = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(key.publicKey)), kid: 'once-1', alg: 'ES256', use: 'sig' };
      const site = await registerTestSite(ts, { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ jti: `jti-${now}-${Math.random()}` })
        .setProtectedHeader({ alg: 'ES256', kid: 'once-1' })
        .setIssuer(site.clientId)
        .setSubject(site.clientId)
        .setAudience(`${ts.url}/token`)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(key.privateKey);
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'read',
        resource: site.resource,
        client_id: site.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString();
      const statuses = await Promise.all(
        Array.from({ length: 8 }, async () => (await fetch(`${ts.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })).status),
      );
      expect(statuses.filter((s) => s === 200), statuses.join(' ')).to.have.length(1);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 401), statuses.join(' ')).to.equal(true);

      // One meant to live ten years is refused outright.
      const long = await new SignJWT({ jti: `jti-long-${now}` })
        .setProtectedHeader({ alg: 'ES256', kid: 'once-1' })
        .setIssuer(site.clientId)
        .setSubject(site.clientId)
        .setAudience(`${ts.url}/token`)
        .setIssuedAt(now)
        .setExpirationTime(now + 10 * 365 * 86_400)
        .sign(key.privateKey);
      const res = await fetch(`${ts.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.replace(encodeURIComponent(assertion), encodeURIComponent(long)).replace(assertion, long),
      });
      expect(res.status).to.equal(401);
      expect(await ts.db('oidc_payloads').where({ model: 'ReplayDetection' }).where('expires_at', '>', ts.db.raw("now() + interval '1 day'"))).to.have.length(0);
    });
  });
});
