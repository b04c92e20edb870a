import { expect } from 'chai';
import * as client from 'openid-client';
import { registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Json = Record<string, unknown>;

const REFUSAL = 'openid and offline_access are for a holder\'s sign-in; a client_credentials token has no holder: ask for your API\'s scopes only';

/**
 * A client_credentials token has no holder behind it: `openid` (an ID token, userinfo) and `offline_access` (a refresh
 * token) mean nothing on it, and a token whose scope said so would mislead whoever reads it. RFC 6749 §3.3 lets the
 * server refuse a scope it will not grant (invalid_scope, §5.2); the card manager does, rather than drop it unsaid.
 */
describe('/token client_credentials: openid and offline_access', () => {
  let ts: TestServer;
  let site: TestSite;
  let cfg: client.Configuration;
  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    cfg = await siteClient(ts, site);
  });
  after(() => ts.stop());

  const tokensStored = async () => Number((await ts.db('oidc_payloads').where({ model: 'ClientCredentials' }).count({ n: '*' }).first())!.n);

  /** A raw token request as the site, its status and JSON body. */
  async function tokenRequest(params: Record<string, string>): Promise<{ status: number; json: Json; cacheControl: string | null }> {
    const res = await fetch(`${ts.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(site.clientId)}:${encodeURIComponent(site.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
    });
    return { status: res.status, json: (await res.json()) as Json, cacheControl: res.headers.get('cache-control') };
  }

  for (const scope of ['openid', 'offline_access', 'read openid', 'offline_access read']) {
    it(`refuses scope "${scope}" with invalid_scope, with or without a resource, storing no token (openid-client)`, async () => {
      const before = await tokensStored();
      for (const params of [{ scope, resource: site.resource }, { scope }] as Record<string, string>[]) {
        try {
          await client.clientCredentialsGrant(cfg, params);
          expect.fail(`expected invalid_scope for ${JSON.stringify(params)}`);
        } catch (err) {
          const e = err as { error?: string; error_description?: string; status?: number };
          expect(e.error, JSON.stringify(params)).to.equal('invalid_scope');
          expect(e.error_description).to.equal(REFUSAL);
        }
      }
      expect(await tokensStored()).to.equal(before);
    });
  }

  it('answers a raw POST with the standard OAuth error JSON (400, no-store)', async () => {
    const res = await tokenRequest({ scope: 'openid read', resource: site.resource });
    expect(res.status).to.equal(400);
    expect(res.cacheControl).to.equal('no-store');
    // oidc-provider names the refused scope beside the error, as for a scope the site is not granted.
    expect(res.json).to.deep.equal({ error: 'invalid_scope', error_description: REFUSAL, scope: 'openid' });
  });

  it('still issues the token for the API scopes alone, and one without a scope', async () => {
    const withResource = await client.clientCredentialsGrant(cfg, { scope: 'read', resource: site.resource });
    expect(withResource.access_token).to.be.a('string');
    expect(withResource.scope).to.equal('read');
    const bare = await tokenRequest({});
    expect(bare.status, JSON.stringify(bare.json)).to.equal(200);
    expect(bare.json.scope).to.equal(undefined);
  });

  it('still refuses bad scope input as before: characters outside the scope syntax, a scope the site is not granted', async () => {
    expect((await tokenRequest({ scope: 'read\u0001' })).json.error).to.equal('invalid_scope');
    expect((await tokenRequest({ scope: 'birthdate' })).json.error).to.equal('invalid_scope');
    const dup = await tokenRequest({ scope: 'openid' }).then(() => tokenRequest({ scope: 'OPENID' }));
    // Scope values are case-sensitive (RFC 6749 §3.3): OPENID is no scope of ours and not refused as openid.
    expect(dup.status).to.equal(200);
  });
});
