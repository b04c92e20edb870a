import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import type * as client from 'openid-client';
import { createResourceServer, createTokenVerifier, TokenError, type ResourceServer } from 'cybercard/resource-server';
import { issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { claimsFor, issuerKey, loginToken, otherKey, sign, unsigned } from './tokens.ts';

/** The refusal a verification ends in (it must end in one). */
async function refusal(p: Promise<unknown>): Promise<TokenError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TokenError) return err;
    throw err;
  }
  throw new Error('expected the token to be refused');
}

describe('cybercard/resource-server: token verification', () => {
  let ts: TestServer;
  let site: TestSite;
  let cfg: client.Configuration;
  let card: TestCard;
  let rs: ResourceServer;
  let good: string;
  let key: Awaited<ReturnType<typeof issuerKey>>;

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    cfg = await siteClient(ts, site);
    card = await issueTestCard(ts);
    rs = createResourceServer({ issuer: ts.url, audience: site.resource });
    good = await loginToken(ts, cfg, site, card);
    key = await issuerKey(ts);
  });
  after(() => ts.stop());

  it('accepts a real access token from the card manager and returns its claims', async () => {
    const claims = await rs.verify(good);
    expect(claims).to.include({ iss: ts.url, aud: site.resource, client_id: site.clientId });
    expect(claims.sub).to.be.a('string');
  });

  it('accepts a token it minted with the issuer’s own key and the right claims (the control for the refusals below)', async () => {
    const token = await sign(claimsFor(ts, site), key.key, { alg: 'ES256', kid: key.kid });
    expect((await rs.verify(token)).client_id).to.equal(site.clientId);
  });

  it('refuses a bad signature', async () => {
    const [h, p, s] = good.split('.');
    const flipped = `${h}.${p}.${s![0] === 'A' ? 'B' : 'A'}${s!.slice(1)}`;
    const err = await refusal(rs.verify(flipped));
    expect(err.code).to.equal('invalid_token');
    expect(err.message).to.match(/signature/);
    // A payload changed after signing is refused the same way.
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(good), age_over_19: true })).toString('base64url');
    expect((await refusal(rs.verify(`${h}.${forged}.${s}`))).code).to.equal('invalid_token');
  });

  it('refuses alg none', async () => {
    const err = await refusal(rs.verify(unsigned(claimsFor(ts, site), key.kid)));
    expect(err.code).to.equal('invalid_token');
    expect(err.status).to.equal(401);
  });

  it('refuses HS256 signed with the issuer’s public key as the HMAC secret', async () => {
    for (const secret of [key.publicPem, JSON.stringify(key.publicJwk)]) {
      const token = await sign(claimsFor(ts, site), new TextEncoder().encode(secret), { alg: 'HS256', kid: key.kid });
      const err = await refusal(rs.verify(token));
      expect(err.code).to.equal('invalid_token');
      expect(err.message).to.match(/algorithm/);
    }
  });

  it('refuses a token for another audience', async () => {
    const token = await sign(claimsFor(ts, site, { aud: 'https://other-api.example.test/' }), key.key, { alg: 'ES256', kid: key.kid });
    expect((await refusal(rs.verify(token))).message).to.match(/"aud"/);
  });

  it('refuses a token from another issuer URL, even signed with the right key', async () => {
    const token = await sign(claimsFor(ts, site, { iss: 'https://evil.example.test' }), key.key, { alg: 'ES256', kid: key.kid });
    expect((await refusal(rs.verify(token))).message).to.match(/"iss"/);
  });

  it('refuses an expired token and one not valid yet, beyond the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign(claimsFor(ts, site, { iat: now - 600, exp: now - 60 }), key.key, { alg: 'ES256', kid: key.kid });
    expect((await refusal(rs.verify(expired))).message).to.match(/expired/);
    const early = await sign(claimsFor(ts, site, { nbf: now + 120 }), key.key, { alg: 'ES256', kid: key.kid });
    expect((await refusal(rs.verify(early))).message).to.match(/not valid yet/);
    // Within the 5 s tolerance both pass: clocks drift.
    const justExpired = await sign(claimsFor(ts, site, { iat: now - 300, exp: now - 2 }), key.key, { alg: 'ES256', kid: key.kid });
    expect((await rs.verify(justExpired)).client_id).to.equal(site.clientId);
  });

  it('refuses a wrong typ (an ID token is not an access token) and a token without typ', async () => {
    for (const typ of ['JWT', 'id_token+jwt']) {
      const token = await sign(claimsFor(ts, site), key.key, { alg: 'ES256', kid: key.kid, typ });
      expect((await refusal(rs.verify(token))).message).to.match(/"typ"/);
    }
    const untyped = await new SignJWT(claimsFor(ts, site)).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(key.key);
    expect((await refusal(rs.verify(untyped))).message).to.match(/"typ"/);
  });

  it('refuses a token signed by another issuer’s key, under our kid or its own', async () => {
    const foreign = await otherKey();
    const sameKid = await sign(claimsFor(ts, site), foreign, { alg: 'ES256', kid: key.kid });
    expect((await refusal(rs.verify(sameKid))).message).to.match(/signature/);
    const ownKid = await sign(claimsFor(ts, site), foreign, { alg: 'ES256', kid: 'someone-elses-key' });
    expect((await refusal(rs.verify(ownKid))).message).to.match(/does not publish/);
  });

  it('refuses a token missing a claim RFC 9068 requires', async () => {
    const { client_id: _c, ...noClient } = claimsFor(ts, site);
    const token = await sign(noClient, key.key, { alg: 'ES256', kid: key.kid });
    expect((await refusal(rs.verify(token))).message).to.match(/client_id/);
  });

  it('refuses a token bound to a key (cnf: DPoP, mTLS), whose proof a Bearer check cannot see', async () => {
    for (const cnf of [{ jkt: 'kT8q1U5Z8Z2Lrj5Yl9uFQ6nV2m3c4b5a6s7d8f9g0hA' }, { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }]) {
      const token = await sign(claimsFor(ts, site, { cnf }), key.key, { alg: 'ES256', kid: key.kid });
      const err = await refusal(rs.verify(token));
      expect(err).to.include({ code: 'invalid_token', status: 401 });
      expect(err.message).to.match(/bound to a key/);
    }
  });

  it('refuses garbage, an oversized token and a wrongly typed value without throwing anything else', async () => {
    for (const junk of ['', 'not.a.token', 'a.b', 'x'.repeat(20_000), `${good}.extra`]) {
      expect((await refusal(rs.verify(junk))).code, junk.slice(0, 20)).to.equal('invalid_token');
    }
  });

  it('refuses to be built with an unsafe or unknown algorithm, a missing audience or a wild tolerance', () => {
    for (const algorithms of [['none'], ['HS256'], ['ES256', 'HS512'], []]) {
      expect(() => createTokenVerifier({ issuer: ts.url, audience: site.resource, algorithms })).to.throw(TypeError);
    }
    expect(() => createTokenVerifier({ issuer: ts.url, audience: '' })).to.throw(TypeError);
    expect(() => createTokenVerifier({ issuer: 'not a url', audience: 'x' })).to.throw(TypeError);
    expect(() => createTokenVerifier({ issuer: ts.url, audience: 'x', clockTolerance: 3600 })).to.throw(TypeError);
  });

  it('answers temporarily_unavailable, not invalid_token, when the issuer cannot be reached', async () => {
    const down = createResourceServer({ issuer: 'http://127.0.0.1:9', audience: site.resource });
    const err = await refusal(down.verify(good));
    expect(err.code).to.equal('temporarily_unavailable');
    expect(err.status).to.equal(503);
  });

  it('fetches the JWKS once, not per request, and a flood of unknown kids does not make it fetch again', async () => {
    let jwksFetches = 0;
    const count = (req: { url?: string }) => {
      if (req.url === '/jwks') jwksFetches++;
    };
    ts.server.on('request', count);
    try {
      const fresh = createResourceServer({ issuer: ts.url, audience: site.resource });
      for (let i = 0; i < 20; i++) await fresh.verify(good);
      expect(jwksFetches).to.equal(1);
      const foreign = await otherKey();
      for (let i = 0; i < 20; i++) {
        const t = await sign(claimsFor(ts, site), foreign, { alg: 'ES256', kid: `random-${i}` });
        await refusal(fresh.verify(t));
      }
      // Unknown kids within the cooldown (30 s by default) are refused from the cache.
      expect(jwksFetches).to.equal(1);
      expect(decodeProtectedHeader(good).kid).to.equal(key.kid);
    } finally {
      ts.server.off('request', count);
    }
  });
});
