import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { loadConfig } from '../../src/config/load.ts';
import { findMemberSite, upsertResourceServer } from '../../src/db/member-sites.ts';
import { rotateSecret } from '../../src/member-sites/rotate-secret.ts';
import { updateSite } from '../../src/member-sites/update.ts';
import { announced } from '../helpers/directory.ts';
import { testEnv } from '../helpers/global.ts';
import { registerTestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Json = Record<string, unknown>;

describe('Dynamic Client Registration (RFC 7591/7592)', () => {
  describe('when the operator has not enabled it (the default)', () => {
    let ts: TestServer;
    before(async () => {
      ts = await startCardManager();
    });
    after(() => ts.stop());

    it('has no registration endpoint', async () => {
      const discovery = (await (await fetch(`${ts.url}/.well-known/openid-configuration`)).json()) as Json;
      expect(discovery).to.not.have.property('registration_endpoint');
      const res = await fetch(`${ts.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).to.equal(404);
    });
  });

  it('cannot be enabled in production without a REGISTRATION_TOKEN of at least 32 characters', () => {
    const env = {
      NODE_ENV: 'production',
      COOKIE_KEYS: 'k'.repeat(40),
      CARD_HMAC_KEY: randomBytes(32).toString('base64'),
      PASSWORD_PEPPER: randomBytes(32).toString('base64'),
      OPERATOR_TOKEN: 'o'.repeat(40),
      SMS_WEBHOOK_URL: 'https://sms.example.test/send',
    };
    const overrides = { issuer: 'https://cards.example.test', databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir, registration: { enabled: true } };
    expect(() => loadConfig({ env, overrides })).to.throw(/REGISTRATION_TOKEN/);
    expect(() => loadConfig({ env: { ...env, REGISTRATION_TOKEN: 'short' }, overrides })).to.throw(/at least 32 characters/);
    expect(loadConfig({ env: { ...env, REGISTRATION_TOKEN: 'r'.repeat(40) }, overrides }).registration.enabled).to.equal(true);
  });

  describe('when enabled', () => {
    let ts: TestServer;
    let token: string;

    before(async () => {
      ts = await startCardManager({ registration: { enabled: true } });
      token = ts.config.secrets.registrationToken!;
    });
    after(() => ts.stop());

    const siteCount = async () => Number((await ts.db('member_sites').count({ n: '*' }).first())!.n);

    function metadata(extra: Json = {}): Json {
      const host = `dcr-${randomBytes(4).toString('hex')}.example.test`;
      return {
        client_name: 'Self-registered shop',
        redirect_uris: [`https://${host}/callback`],
        post_logout_redirect_uris: [`https://${host}/`],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile',
        ...extra,
      };
    }

    /** A resource server the operator registered and granted to no site yet. */
    async function freshResource(): Promise<string> {
      const identifier = `https://api-${randomBytes(4).toString('hex')}.example.test/`;
      await upsertResourceServer(ts.db, { identifier, name: 'DCR API', scope: 'read', accessTokenTtl: null });
      return identifier;
    }

    /** The operator grants the site these resource servers (a site registering itself names none). */
    async function grant(clientId: string, resourceServers: string[]): Promise<void> {
      await announced(ts.cm.directory, `site:${clientId}`, () =>
        updateSite({ db: ts.db, requireHttps: false, ratings: ts.config.ratings }, clientId, { resourceServers }, 'operator'),
      );
    }

    function register(body: unknown, authorization: string | null = `Bearer ${token}`) {
      return fetch(`${ts.url}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify(body),
      });
    }

    it('registers a site with the initial access token, storing only the secret’s hash', async () => {
      const res = await register(metadata());
      expect(res.status).to.equal(201);
      const body = (await res.json()) as Json;
      const resource = await freshResource();
      await grant(String(body.client_id), [resource]);
      expect(body.client_id).to.match(/^site_/);
      expect(body.client_secret).to.be.a('string');
      expect(body.registration_access_token).to.be.a('string');
      const site = await findMemberSite(ts.db, String(body.client_id));
      expect(site).to.include({ name: 'Self-registered shop', status: 'active', scope: 'openid profile' });
      expect(site!.clientSecretHash).to.match(/^[0-9a-f]{64}$/).and.not.equal(body.client_secret);
      expect(site!.resourceServers).to.deep.equal([resource]);
      // The secret it was given works at the token endpoint.
      const cfg = await client.discovery(new URL(ts.url), String(body.client_id), undefined, client.ClientSecretBasic(String(body.client_secret)), {
        execute: [client.allowInsecureRequests],
      });
      expect((await client.clientCredentialsGrant(cfg, { resource, scope: 'read' })).access_token).to.be.a('string');
    });

    it('refuses a missing or wrong initial access token', async () => {
      const before = await siteCount();
      for (const auth of [null, 'Bearer not-the-token', `Bearer ${token}x`]) {
        const res = await register(metadata(), auth);
        expect(res.status, String(auth)).to.equal(401);
        expect(((await res.json()) as Json).error).to.equal('invalid_token');
      }
      expect(await siteCount()).to.equal(before);
    });

    it('applies the registry’s validation: wildcards, fragments, unknown resource servers, other hosts', async () => {
      const before = await siteCount();
      const cases: Json[] = [
        { redirect_uris: ['https://*.example.test/callback'] },
        { redirect_uris: ['https://shop.example.test/callback#x'] },
        { redirect_uris: ['https://a.example.test/cb', 'https://b.example.test/cb'] },
        { post_logout_redirect_uris: ['https://elsewhere.example.test/'] },
        { 'urn:cybercard:resource_servers': ['https://not-registered.example.test/'] },
        { scope: 'openid admin' },
        { token_endpoint_auth_method: 'private_key_jwt' },
      ];
      for (const c of cases) {
        const res = await register(metadata(c));
        const body = (await res.json()) as Json;
        expect(res.status, JSON.stringify(c)).to.equal(400);
        expect(body.error, JSON.stringify(c)).to.be.oneOf(['invalid_redirect_uri', 'invalid_client_metadata']);
      }
      expect(await siteCount()).to.equal(before);
    });

    it('takes only a configured urn:cybercard:content_rating, registered or raised by the site itself, listing them when refused', async () => {
      const before = await siteCount();
      for (const rating of [18, 1]) {
        const res = await register(metadata({ 'urn:cybercard:content_rating': rating }));
        expect(res.status, String(rating)).to.equal(400);
        expect(await res.json(), String(rating)).to.deep.equal({
          error: 'invalid_client_metadata',
          error_description: 'urn:cybercard:content_rating must be one of the configured ratings: 0 (ALL), 12, 15, 19',
        });
      }
      expect(await siteCount()).to.equal(before);
      const created = (await (await register(metadata({ 'urn:cybercard:content_rating': 15 }))).json()) as Json;
      const { registration_access_token: rat, registration_client_uri: uri, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const put = await fetch(String(uri), {
        method: 'PUT',
        headers: { authorization: `Bearer ${String(rat)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...current, 'urn:cybercard:content_rating': 18 }),
      });
      expect(put.status).to.equal(400);
      expect(((await put.json()) as Json).error_description).to.equal('urn:cybercard:content_rating must be one of the configured ratings: 0 (ALL), 12, 15, 19');
      expect((await findMemberSite(ts.db, String(created.client_id)))!.contentRating).to.equal(15);
    });

    it('refuses any resource server, one granted to another site, to none yet, or not registered: invalid_client_metadata, nothing stored', async () => {
      const operators = await registerTestSite(ts);
      const unregistered = `https://api-${randomBytes(4).toString('hex')}.example.test/`;
      const before = await siteCount();
      for (const named of [[operators.resource], [await freshResource()], [await freshResource(), operators.resource], [unregistered]]) {
        const res = await register(metadata({ 'urn:cybercard:resource_servers': named }));
        expect(res.status, named.join(' ')).to.equal(400);
        expect(await res.json(), named.join(' ')).to.deep.equal({
          error: 'invalid_client_metadata',
          error_description: `urn:cybercard:resource_servers granted by the operator only: ${named.join(' ')}; register without them and ask the operator`,
        });
      }
      expect(await siteCount()).to.equal(before);
      expect((await register(metadata({ 'urn:cybercard:resource_servers': [] }))).status).to.equal(201);
    });

    it('lets a site the operator shared a resource server with keep it through its own updates (RFC 7592)', async () => {
      const resource = await freshResource();
      const registered = (await (await register(metadata())).json()) as Json;
      await grant(String(registered.client_id), [resource]);
      const other = await registerTestSite(ts);
      // The operator shares the site's API with another, as the README allows.
      await grant(other.clientId, [other.resource, resource]);
      // What the site reads now carries what the operator granted it.
      const read = await fetch(String(registered.registration_client_uri), { headers: { authorization: `Bearer ${String(registered.registration_access_token)}` } });
      const created = { ...registered, ...((await read.json()) as Json) };
      const { registration_access_token: rat, registration_client_uri: uri, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const put = await fetch(String(uri), {
        method: 'PUT',
        headers: { authorization: `Bearer ${String(rat)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...current, client_name: 'Still sharing' }),
      });
      expect(put.status).to.equal(200);
      expect((await findMemberSite(ts.db, String(created.client_id)))!.resourceServers).to.deep.equal([resource]);
    });

    it('lets the site read, update and delete itself with its registration access token (RFC 7592), never showing the hash', async () => {
      const created = (await (await register(metadata())).json()) as Json;
      const uri = String(created.registration_client_uri);
      const rat = { authorization: `Bearer ${created.registration_access_token}` };
      const read = await fetch(uri, { headers: rat });
      expect(read.status).to.equal(200);
      const shown = (await read.json()) as Json;
      expect(shown).to.not.have.property('client_secret');
      expect(JSON.stringify(shown)).to.not.match(/[0-9a-f]{64}/);

      const { registration_access_token: _t, registration_client_uri: _u, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const put = await fetch(uri, {
        method: 'PUT',
        headers: { ...rat, 'content-type': 'application/json' },
        body: JSON.stringify({ ...current, client_name: 'Renamed by itself' }),
      });
      expect(put.status).to.equal(200);
      const updated = (await put.json()) as Json;
      expect(updated).to.not.have.property('client_secret');
      expect((await findMemberSite(ts.db, String(created.client_id)))!.name).to.equal('Renamed by itself');

      const nextRat = { authorization: `Bearer ${updated.registration_access_token}` };
      const del = await fetch(uri, { method: 'DELETE', headers: nextRat });
      expect(del.status).to.equal(204);
      expect((await findMemberSite(ts.db, String(created.client_id)))!.status).to.equal('closed');
    });

    it('answers a registration and an update with the metadata it keeps, as a read shows it, never metadata it dropped (RFC 7591 §3.2.1)', async () => {
      // Metadata the provider takes but the member-site registry does not keep: answered back as registered, a site
      // would believe its ID tokens always carry auth_time, or its payments capped, when neither is so.
      const unkept = {
        require_auth_time: true,
        'urn:cybercard:max_amount': 5,
        'urn:cybercard:access_token_ttl': 99_999_999,
        'urn:cybercard:status': 'suspended',
      };
      const volatile = ['registration_access_token', 'client_secret', 'client_secret_expires_at', 'client_id_issued_at'];
      const kept = (body: Json) => Object.fromEntries(Object.entries(body).filter(([k]) => !volatile.includes(k)));
      const res = await register(metadata(unkept));
      expect(res.status).to.equal(201);
      const created = (await res.json()) as Json;
      const uri = String(created.registration_client_uri);
      const read = async (token: unknown) => (await (await fetch(uri, { headers: { authorization: `Bearer ${String(token)}` } })).json()) as Json;
      expect(kept(created)).to.deep.equal(kept(await read(created.registration_access_token)));
      expect(created).to.include({ require_auth_time: false, 'urn:cybercard:status': 'active' });

      const { registration_access_token: rat, registration_client_uri: _u, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const put = await fetch(uri, {
        method: 'PUT',
        headers: { authorization: `Bearer ${String(rat)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...current, ...unkept, client_name: 'Renamed, still unkept' }),
      });
      expect(put.status).to.equal(200);
      const updated = (await put.json()) as Json;
      expect(kept(updated)).to.deep.equal(kept(await read(updated.registration_access_token)));
      expect(updated).to.include({ client_name: 'Renamed, still unkept', 'urn:cybercard:status': 'active' });
    });

    it('never lets a site widen by an update what the operator granted it (resource servers, scopes)', async () => {
      const resource = await freshResource();
      const created = (await (await register(metadata())).json()) as Json;
      const id = String(created.client_id);
      await grant(id, [resource]);
      // The operator narrows the site.
      await announced(ts.cm.directory, `site:${id}`, () =>
        updateSite({ db: ts.db, requireHttps: false, ratings: ts.config.ratings }, id, { resourceServers: [], scope: 'openid' }, 'operator'),
      );
      const uri = String(created.registration_client_uri);
      const rat = { authorization: `Bearer ${created.registration_access_token}`, 'content-type': 'application/json' };
      const { registration_access_token: _t, registration_client_uri: _u, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const put = (body: Json) => fetch(uri, { method: 'PUT', headers: rat, body: JSON.stringify(body) });
      for (const widen of [{ 'urn:cybercard:resource_servers': [resource] }, { 'urn:cybercard:resource_servers': [], scope: 'openid profile offline_access' }]) {
        const res = await put({ ...current, ...widen });
        expect(res.status, JSON.stringify(widen)).to.equal(400);
        expect(((await res.json()) as { error: string }).error).to.equal('invalid_client_metadata');
      }
      const site = (await findMemberSite(ts.db, id))!;
      expect([site.resourceServers, site.scope]).to.deep.equal([[], 'openid']);
      // Keeping what it has, or leaving the scope out, is fine; the scope stays as the operator set it.
      const { scope: _scope, ...noScope } = current;
      const kept = await put({ ...noScope, 'urn:cybercard:resource_servers': [], client_name: 'Still narrow' });
      expect(kept.status).to.equal(200);
      const after = (await findMemberSite(ts.db, id))!;
      expect([after.name, after.scope, after.resourceServers]).to.deep.equal(['Still narrow', 'openid', []]);
    });

    it('never lets a site give itself the birthdate scope: only the operator grants it, which its updates may then keep', async () => {
      const before = await siteCount();
      const refused = await register(metadata({ scope: 'openid profile birthdate' }));
      expect(refused.status).to.equal(400);
      expect(await refused.json()).to.deep.equal({
        error: 'invalid_client_metadata',
        error_description: 'scope birthdate is granted by the operator only; register without it and ask the operator',
      });
      expect(await siteCount()).to.equal(before);
      const created = (await (await register(metadata())).json()) as Json;
      const id = String(created.client_id);
      const { registration_access_token: rat, registration_client_uri: uri, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const put = (scope: string) =>
        fetch(String(uri), { method: 'PUT', headers: { authorization: `Bearer ${String(rat)}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...current, scope }) });
      expect((await put('openid profile birthdate')).status).to.equal(400);
      expect((await findMemberSite(ts.db, id))!.scope).to.equal('openid profile');
      await announced(ts.cm.directory, `site:${id}`, () =>
        updateSite({ db: ts.db, requireHttps: false, ratings: ts.config.ratings }, id, { scope: 'openid profile birthdate' }, 'operator'),
      );
      const kept = await put('openid profile birthdate');
      expect(kept.status).to.equal(200);
      expect(((await kept.json()) as Json).scope).to.equal('openid profile birthdate');
    });

    it('never lets a site set or change its own allowed claims: what it sends is not kept, and the operator’s list survives its updates', async () => {
      const created = (await (await register(metadata({ 'urn:cybercard:allowed_claims': ['name'] }))).json()) as Json;
      const id = String(created.client_id);
      expect((await findMemberSite(ts.db, id))!.allowedClaims).to.equal(null);
      expect(created['urn:cybercard:allowed_claims']).to.equal(null);
      await announced(ts.cm.directory, `site:${id}`, () =>
        updateSite({ db: ts.db, requireHttps: false, ratings: ts.config.ratings }, id, { allowedClaims: ['age_over_19'] }, 'operator'),
      );
      const { registration_access_token: rat, registration_client_uri: uri, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const res = await fetch(String(uri), {
        method: 'PUT',
        headers: { authorization: `Bearer ${String(rat)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...current, 'urn:cybercard:allowed_claims': null }),
      });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as Json)['urn:cybercard:allowed_claims']).to.deep.equal(['age_over_19']);
      expect((await findMemberSite(ts.db, id))!.allowedClaims).to.deep.equal(['age_over_19']);
    });

    describe('an update carrying client_secret (RFC 7592 §2.2: if sent, it must be the current one)', () => {
      async function registered() {
        const resource = await freshResource();
        const registered = (await (await register(metadata())).json()) as Json;
        await grant(String(registered.client_id), [resource]);
        const read = await fetch(String(registered.registration_client_uri), { headers: { authorization: `Bearer ${String(registered.registration_access_token)}` } });
        const created = { ...registered, ...((await read.json()) as Json) };
        const { registration_access_token: rat, registration_client_uri: uri, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
        const put = (body: Json, token = String(rat)) =>
          fetch(String(uri), { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { id: String(created.client_id), secret: String(created.client_secret), current, rat: String(rat), put, resource };
      }

      it('is accepted with the site’s own secret, which keeps working afterwards', async () => {
        const site = await registered();
        const hashBefore = (await findMemberSite(ts.db, site.id))!.clientSecretHash;
        const res = await site.put({ ...site.current, client_name: 'Renamed with its secret' });
        expect(res.status).to.equal(200);
        const body = (await res.json()) as Json;
        expect(body).to.not.have.property('client_secret');
        const stored = (await findMemberSite(ts.db, site.id))!;
        expect([stored.name, stored.clientSecretHash]).to.deep.equal(['Renamed with its secret', hashBefore]);
        const cfg = await client.discovery(new URL(ts.url), site.id, undefined, client.ClientSecretBasic(site.secret), {
          execute: [client.allowInsecureRequests],
        });
        expect((await client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' })).access_token).to.be.a('string');
      });

      it('is refused with invalid_request for any other secret, the stored hash included, and changes nothing', async () => {
        const site = await registered();
        const before = (await findMemberSite(ts.db, site.id))!;
        for (const wrong of [`${site.secret}x`, 'not-the-secret', before.clientSecretHash, '', 12345, null]) {
          const res = await site.put({ ...site.current, client_secret: wrong, client_name: 'Should not be renamed' });
          expect(res.status, String(wrong)).to.equal(400);
          expect(((await res.json()) as Json).error, String(wrong)).to.equal('invalid_request');
        }
        expect(await findMemberSite(ts.db, site.id)).to.deep.equal(before);
        // Its registration access token was not spent by the refusals.
        expect((await site.put({ ...site.current, client_name: 'Renamed at last' })).status).to.equal(200);
      });

      it('after a rotation, takes the new secret and refuses the previous one, though it still signs in for a while', async () => {
        const site = await registered();
        const rotated = await announced(ts.cm.directory, `site:${site.id}`, () => rotateSecret(ts.db, site.id, 600));
        const before = (await findMemberSite(ts.db, site.id))!;
        const old = await site.put({ ...site.current, client_secret: site.secret, client_name: 'Renamed with the old secret' });
        expect(old.status).to.equal(400);
        expect(((await old.json()) as Json).error).to.equal('invalid_request');
        expect(await findMemberSite(ts.db, site.id)).to.deep.equal(before);
        const res = await site.put({ ...site.current, client_secret: rotated.clientSecret, client_name: 'Renamed with the new secret' });
        expect(res.status).to.equal(200);
        const after = (await findMemberSite(ts.db, site.id))!;
        expect([after.name, after.clientSecretHash, after.previousSecretHash]).to.deep.equal(['Renamed with the new secret', before.clientSecretHash, before.previousSecretHash]);
        // The overlap is untouched by the update: the previous secret still authenticates at /token.
        const cfg = await client.discovery(new URL(ts.url), site.id, undefined, client.ClientSecretBasic(site.secret), {
          execute: [client.allowInsecureRequests],
        });
        expect((await client.clientCredentialsGrant(cfg, { resource: site.resource, scope: 'read' })).access_token).to.be.a('string');
      });
    });

    it('refuses a name with control characters, registered or renamed by the site itself (the operator’s terminal prints it)', async () => {
      const before = await siteCount();
      const refused = await register(metadata({ client_name: 'Shop\u001b[2J\u001b]0;owned\u0007' }));
      expect(refused.status).to.equal(400);
      expect(((await refused.json()) as Json).error_description).to.match(/client_name must not contain control characters/);
      // A right-to-left override would show another name than the one registered ("Trusted\u202eSpoh" reads "TrustedhopS").
      for (const name of ['Trusted \u202epohS', 'Shop \u2067x\u2069']) {
        const spoofed = await register(metadata({ client_name: name }));
        expect(spoofed.status, name).to.equal(400);
      }
      expect(await siteCount()).to.equal(before);

      const created = (await (await register(metadata())).json()) as Json;
      const { registration_access_token: rat, registration_client_uri: uri, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      const put = await fetch(String(uri), {
        method: 'PUT',
        headers: { authorization: `Bearer ${rat}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...current, client_name: 'Shop\u009b31m' }),
      });
      expect(put.status).to.equal(400);
      expect((await findMemberSite(ts.db, String(created.client_id)))!.name).to.equal('Self-registered shop');
    });

    it('answers an update whose metadata has the wrong types with invalid_client_metadata, not 500, changing nothing', async () => {
      // Registered without one (a site registering itself names none), then sent one the wrong way.
      const resource = await freshResource();
      const created = (await (await register(metadata())).json()) as Json;
      const id = String(created.client_id);
      const before = await findMemberSite(ts.db, id);
      const rat = { authorization: `Bearer ${created.registration_access_token}`, 'content-type': 'application/json' };
      const { registration_access_token: _t, registration_client_uri: _u, client_secret: _s, client_id_issued_at: _i, client_secret_expires_at: _e, ...current } = created;
      for (const bad of [{ 'urn:cybercard:resource_servers': resource }, { 'urn:cybercard:resource_servers': { [resource]: true } }, { 'urn:cybercard:content_rating': '19' }]) {
        const res = await fetch(String(created.registration_client_uri), { method: 'PUT', headers: rat, body: JSON.stringify({ ...current, ...bad }) });
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect(((await res.json()) as { error: string }).error, JSON.stringify(bad)).to.equal('invalid_client_metadata');
      }
      expect(await findMemberSite(ts.db, id)).to.deep.equal(before);
    });

    it('answers a malformed body with 400, not 500', async () => {
      for (const body of ['not json', '[]', '{"redirect_uris": "https://x.example.test/cb"}', JSON.stringify(metadata({ client_name: 'Shop\u0000' }))]) {
        const res = await fetch(`${ts.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
        expect(res.status, body).to.equal(400);
      }
    });
  });
});
