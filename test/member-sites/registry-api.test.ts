import { expect } from 'chai';
import bodyParser from '@koa/bodyparser';
import Koa from 'koa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { adminSiteRoutes } from '../../src/admin/sites-routes.ts';
import { loadConfig } from '../../src/config/load.ts';
import { upsertResourceServer } from '../../src/db/member-sites.ts';
import { errorHandler } from '../../src/http/error-handler.ts';
import { createRenderer } from '../../src/http/render.ts';
import { registryRules } from '../../src/member-sites/registry-rules.ts';
import { warnOfLogoutElsewhere } from '../../src/member-sites/warn-logout-elsewhere.ts';
import { createLogger } from '../../src/log.ts';
import { close } from '../../src/server.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Json = Record<string, unknown>;

describe('/admin/api/sites (operator API for the member-site registry)', () => {
  let ts: TestServer;
  let resource: string;

  function api(path: string, init: { method?: string; body?: unknown; token?: string | null; type?: string } = {}) {
    const headers: Record<string, string> = {};
    if (init.token !== null) headers.authorization = `Bearer ${init.token ?? ts.config.secrets.operatorToken}`;
    if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
    return fetch(`${ts.url}/admin/api/sites${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
    });
  }

  const siteCount = async () => Number((await ts.db('member_sites').count({ n: '*' }).first())!.n);

  function siteBody(extra: Json = {}): Json {
    const tag = randomBytes(4).toString('hex');
    return {
      name: `Shop ${tag}`,
      redirect_uris: [`https://shop-${tag}.example.test/callback`],
      post_logout_redirect_uris: [`https://shop-${tag}.example.test/`],
      resource_servers: [resource],
      content_rating: 15,
      max_amount: 50_000,
      homepage_uri: `https://shop-${tag}.example.test/`,
      logo_uri: `https://shop-${tag}.example.test/logo.png`,
      access_token_ttl: 120,
      ...extra,
    };
  }

  before(async () => {
    ts = await startCardManager();
    resource = `https://api-${randomBytes(4).toString('hex')}.example.test/`;
    await upsertResourceServer(ts.db, { identifier: resource, name: 'Shop API', scope: 'read', accessTokenTtl: null });
  });
  after(() => ts.stop());

  it('registers a site, shows the secret once, and never shows a secret or hash again', async () => {
    const res = await api('/', { body: siteBody() });
    expect(res.status).to.equal(201);
    const created = (await res.json()) as Json;
    expect(created.client_secret).to.be.a('string').with.length.above(30);
    expect(created).to.include({ status: 'active', content_rating: 15, max_amount: 50_000, access_token_ttl: 120 });
    expect(created.resource_servers).to.deep.equal([resource]);
    const shown = (await (await api(`/${created.client_id}`)).json()) as Json;
    expect(shown).to.not.have.property('client_secret');
    expect(JSON.stringify(shown)).to.not.include(String(created.client_secret));
    const listed = (await (await api('/?status=active')).json()) as { sites: Json[] };
    expect(listed.sites.map((s) => s.client_id)).to.include(created.client_id);
    const audit = await ts.db('audit_log').where({ subject_id: created.client_id, action: 'member_site.registered' }).first();
    expect(audit).to.not.equal(undefined);
  });

  it('turns capture at approval on and off for a registered site, audited, and refuses anything but true or false', async () => {
    const created = (await (await api('/', { body: siteBody() })).json()) as Json;
    const autoCapture = async () => (await ts.db('member_sites').where({ client_id: created.client_id }).first('auto_capture')).auto_capture;
    expect(await autoCapture()).to.equal(false);
    const on = await api(`/${created.client_id}`, { method: 'PATCH', body: { auto_capture: true } });
    expect(on.status).to.equal(200);
    expect(await autoCapture()).to.equal(true);
    const bad = await api(`/${created.client_id}`, { method: 'PATCH', body: { auto_capture: 'yes' } });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { fields: Json }).fields).to.have.property('auto_capture');
    expect(await autoCapture()).to.equal(true);
    expect((await api(`/${created.client_id}`, { method: 'PATCH', body: { auto_capture: false } })).status).to.equal(200);
    expect(await autoCapture()).to.equal(false);
    const audit = await ts.db('audit_log').where({ subject_id: created.client_id, action: 'member_site.updated' }).select('details');
    expect(audit.map((a: { details: { fields: string[] } }) => a.details.fields)).to.deep.equal([['autoCapture'], ['autoCapture']]);
  });

  it('updates only the fields sent and validates the result as a whole', async () => {
    const created = (await (await api('/', { body: siteBody() })).json()) as Json;
    const res = await api(`/${created.client_id}`, { method: 'PATCH', body: { name: 'Renamed shop', max_amount: 10_000, scope: 'openid profile' } });
    expect(res.status).to.equal(200);
    const updated = (await res.json()) as Json;
    expect(updated).to.include({ name: 'Renamed shop', max_amount: 10_000, scope: 'openid profile', content_rating: 15 });
    const bad = await api(`/${created.client_id}`, { method: 'PATCH', body: { scope: 'openid admin' } });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { fields: Json }).fields).to.have.property('scope');
  });

  it('keeps a site’s allowed claims (none: its scopes decide), refuses unknown ones or one its scopes cannot give, and clears them with null', async () => {
    const plain = (await (await api('/', { body: siteBody() })).json()) as Json;
    expect(plain.allowed_claims).to.equal(null);
    const res = await api('/', { body: siteBody({ scope: 'openid profile', allowed_claims: ['name', 'age_over_19'] }) });
    expect(res.status).to.equal(201);
    const created = (await res.json()) as Json;
    expect(created.allowed_claims).to.deep.equal(['name', 'age_over_19']);
    expect(((await (await api(`/${created.client_id}`)).json()) as Json).allowed_claims).to.deep.equal(['name', 'age_over_19']);

    const before = await siteCount();
    const cases: Array<[Json, RegExp]> = [
      [{ allowed_claims: ['email'] }, /Must be among sub, name, birthdate, age_over_12, age_over_15, age_over_19/],
      [{ allowed_claims: ['age_over_18'] }, /age_over_18/],
      [{ allowed_claims: ['name', 'name'] }, /Listed twice/],
      [{ allowed_claims: 'name' }, /list/i],
      [{ scope: 'openid', allowed_claims: ['name'] }, /name needs the profile scope/],
      [{ allowed_claims: ['birthdate'] }, /birthdate needs the birthdate scope/],
    ];
    for (const [change, message] of cases) {
      const bad = await api('/', { body: siteBody(change) });
      expect(bad.status, JSON.stringify(change)).to.equal(400);
      const fields = ((await bad.json()) as { fields: Json }).fields;
      expect(fields.allowed_claims, JSON.stringify(change)).to.match(message);
    }
    expect(await siteCount()).to.equal(before);

    const narrowed = await api(`/${created.client_id}`, { method: 'PATCH', body: { allowed_claims: ['age_over_19'] } });
    expect(((await narrowed.json()) as Json).allowed_claims).to.deep.equal(['age_over_19']);
    const cleared = await api(`/${created.client_id}`, { method: 'PATCH', body: { allowed_claims: null } });
    expect(((await cleared.json()) as Json).allowed_claims).to.equal(null);
  });

  it('takes only a configured rating (ALL 0, 12, 15, 19), listing them when refused, and leaves an older site’s own alone', async () => {
    const configured = 'Must be one of the configured ratings: 0 (ALL), 12, 15, 19.';
    const before = await siteCount();
    for (const rating of [18, 1, 99]) {
      const res = await api('/', { body: siteBody({ content_rating: rating }) });
      expect(res.status, String(rating)).to.equal(400);
      expect(((await res.json()) as { fields: Json }).fields, String(rating)).to.deep.equal({ content_rating: configured });
    }
    expect(await siteCount()).to.equal(before);
    const created = (await (await api('/', { body: siteBody({ content_rating: 0 }) })).json()) as Json;
    const rating = async () => (await ts.db('member_sites').where({ client_id: created.client_id }).first('content_rating')).content_rating;
    const refused = await api(`/${created.client_id}`, { method: 'PATCH', body: { content_rating: 18 } });
    expect(refused.status).to.equal(400);
    expect(((await refused.json()) as { fields: Json }).fields).to.deep.equal({ content_rating: configured });
    expect(await rating()).to.equal(0);
    expect((await api(`/${created.client_id}`, { method: 'PATCH', body: { content_rating: 19 } })).status).to.equal(200);
    expect(await rating()).to.equal(19);
    // A rating stored before this rule stays until the operator changes it: other changes go through.
    await ts.db('member_sites').where({ client_id: created.client_id }).update({ content_rating: 18 });
    expect((await api(`/${created.client_id}`, { method: 'PATCH', body: { name: 'Older rating kept' } })).status).to.equal(200);
    expect((await api(`/${created.client_id}`, { method: 'PATCH', body: { content_rating: 18 } })).status).to.equal(200);
    expect(await rating()).to.equal(18);
  });

  it('lets the operator grant one resource server to several sites (a shared API), at registration and at a change', async () => {
    const first = (await (await api('/', { body: siteBody() })).json()) as Json;
    const second = await api('/', { body: siteBody() });
    expect(second.status).to.equal(201);
    expect(((await second.json()) as Json).resource_servers).to.deep.equal(first.resource_servers);
    const other = `https://api-${randomBytes(4).toString('hex')}.example.test/`;
    await upsertResourceServer(ts.db, { identifier: other, name: 'Other API', scope: 'read', accessTokenTtl: null });
    const third = (await (await api('/', { body: siteBody({ resource_servers: [other] }) })).json()) as Json;
    const shared = await api(`/${third.client_id}`, { method: 'PATCH', body: { resource_servers: [other, resource] } });
    expect(shared.status).to.equal(200);
    expect(((await shared.json()) as Json).resource_servers).to.deep.equal([other, resource]);
  });

  it('refuses wildcards, fragments, unknown resource servers and bad values, naming the field, and stores nothing', async () => {
    const before = await siteCount();
    const cases: Array<[Json, string]> = [
      [{ redirect_uris: ['https://*.example.test/callback'] }, 'redirect_uris'],
      [{ redirect_uris: ['https://shop.example.test/callback#top'] }, 'redirect_uris'],
      [{ redirect_uris: ['https://user:pw@shop.example.test/callback'] }, 'redirect_uris'],
      [{ redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris'],
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ post_logout_redirect_uris: ['https://shop.example.test/*'] }, 'post_logout_redirect_uris'],
      [{ resource_servers: ['https://unknown-api.example.test/'] }, 'resource_servers'],
      [{ content_rating: -1 }, 'content_rating'],
      [{ max_amount: 0 }, 'max_amount'],
      [{ max_amount: 12.5 }, 'max_amount'],
      [{ access_token_ttl: 5 }, 'access_token_ttl'],
      [{ token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method'],
      [{ token_endpoint_auth_method: 'private_key_jwt' }, 'jwks'],
      [{ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, token_endpoint_auth_method: 'private_key_jwt' }, 'jwks'],
      [{ name: '' }, 'name'],
      [{ surprise: true }, 'surprise'],
      [{ redirectUris: ['https://shop.example.test/callback'] }, 'redirectUris'],
    ];
    for (const [change, field] of cases) {
      const res = await api('/', { body: siteBody(change) });
      expect(res.status, JSON.stringify(change)).to.equal(400);
      const body = (await res.json()) as { error: string; fields: Json };
      expect(body.error).to.equal('invalid_request');
      expect(Object.keys(body.fields ?? {}).join(','), JSON.stringify(change)).to.include(field);
    }
    expect(await siteCount()).to.equal(before);
  });

  it("keeps post-logout redirect URIs on the redirect URIs' origin, at registration and at a change, storing nothing refused", async () => {
    const before = await siteCount();
    const body = siteBody();
    const [origin] = (body.redirect_uris as string[]).map((u) => new URL(u).origin);
    for (const elsewhere of ['https://elsewhere.example.test/', origin!.replace('https:', 'http:') + '/', `${origin}:8443/`]) {
      const res = await api('/', { body: { ...body, post_logout_redirect_uris: [`${origin}/bye`, elsewhere] } });
      expect(res.status, elsewhere).to.equal(400);
      const answer = (await res.json()) as { fields: Record<string, string> };
      expect(Object.keys(answer.fields), elsewhere).to.deep.equal(['post_logout_redirect_uris']);
      expect(answer.fields.post_logout_redirect_uris).to.include(elsewhere).and.include(origin);
    }
    expect(await siteCount()).to.equal(before);
    const created = (await (await api('/', { body: { ...body, post_logout_redirect_uris: [`${origin}/bye`, `${origin}/`] } })).json()) as Json;
    expect(created.post_logout_redirect_uris).to.deep.equal([`${origin}/bye`, `${origin}/`]);
    // Moving the redirect URIs to another host moves the post-logout ones with them, or is refused as a whole.
    const moved = await api(`/${created.client_id}`, { method: 'PATCH', body: { redirect_uris: ['https://moved.example.test/cb'] } });
    expect(moved.status).to.equal(400);
    expect(((await moved.json()) as { fields: Json }).fields).to.have.property('post_logout_redirect_uris');
    expect((await ts.db('member_sites').where({ client_id: created.client_id }).first('redirect_uris')).redirect_uris).to.deep.equal(body.redirect_uris);
    const both = await api(`/${created.client_id}`, { method: 'PATCH', body: { redirect_uris: ['https://moved.example.test/cb'], post_logout_redirect_uris: ['https://moved.example.test/'] } });
    expect(both.status).to.equal(200);
  });

  it('names at start each site still holding post-logout redirect URIs on another origin, registered before the rule', async () => {
    const body = siteBody();
    const [origin] = (body.redirect_uris as string[]).map((u) => new URL(u).origin);
    const register = async () => ((await (await api('/', { body: { ...body, post_logout_redirect_uris: [`${origin}/bye`] } })).json()) as Json).client_id as string;
    const [old, closed, fine] = [await register(), await register(), await register()];
    // As an older version stored them (the registry refuses them now).
    await ts.db('member_sites').whereIn('client_id', [old, closed]).update({ post_logout_redirect_uris: JSON.stringify([`${origin}/bye`, 'https://elsewhere.example.test/']) });
    expect((await api(`/${closed}/close`, { body: { reason: 'gone' } })).status).to.equal(200);
    const lines: string[] = [];
    const named = await warnOfLogoutElsewhere(ts.db, createLogger('warn', { write: (l: string) => void lines.push(l) }));
    expect(named).to.include(old).and.not.include(closed).and.not.include(fine);
    const line = lines.map((l) => JSON.parse(l) as Json).find((l) => l.clientId === old);
    expect(line).to.include({ level: 40 });
    expect(line!.postLogoutRedirectUris).to.deep.equal(['https://elsewhere.example.test/']);
    expect(line!.msg).to.match(/sites update --client-id ID --post-logout-uri URI/);
  });

  it('refuses plain http redirect URIs with the production rules, and allows them outside production', async () => {
    const prod = loadConfig({
      env: {
        NODE_ENV: 'production',
        COOKIE_KEYS: 'k'.repeat(40),
        CARD_HMAC_KEY: randomBytes(32).toString('base64'),
        PASSWORD_PEPPER: randomBytes(32).toString('base64'),
        OPERATOR_TOKEN: 'o'.repeat(40),
        SMS_WEBHOOK_URL: 'https://sms.example.test/send',
      },
      overrides: { issuer: 'https://cards.example.test', databaseUrl: testEnv.databaseUrl, dataDir: testEnv.dataDir },
    });
    expect(registryRules(prod).requireHttps).to.equal(true);
    // The real routes with the production rules, on the run's database.
    const app = new Koa();
    app.use(errorHandler(createRenderer({ cache: false })));
    app.use(adminSiteRoutes({ parseBody: bodyParser(), db: ts.db, rules: registryRules(prod), operatorAuth: prod.secrets, directory: ts.cm.directory }).routes());
    const server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/api/sites`;
    try {
      const before = await siteCount();
      for (const change of [{ redirect_uris: ['http://shop.example.test/callback'] }, { post_logout_redirect_uris: ['http://shop.example.test/'] }, { logo_uri: 'http://shop.example.test/logo.png' }]) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${prod.secrets.operatorToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(siteBody(change)),
        });
        expect(res.status).to.equal(400);
        expect(JSON.stringify(await res.json())).to.include('Must be https in production.');
      }
      expect(await siteCount()).to.equal(before);
      const ok = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${prod.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(siteBody()),
      });
      expect(ok.status).to.equal(201);
    } finally {
      server.closeAllConnections();
      await close(server);
    }
    expect(registryRules(ts.config).requireHttps).to.equal(false);
    expect((await api('/', { body: siteBody({ redirect_uris: ['http://localhost:4000/callback'], post_logout_redirect_uris: ['http://localhost:4000/'] }) })).status).to.equal(201);
  });

  it('suspends, reinstates and closes with a reason; a closed site cannot come back or change', async () => {
    const created = (await (await api('/', { body: siteBody() })).json()) as Json;
    const id = String(created.client_id);
    expect((await api(`/${id}/suspend`, { body: {} })).status).to.equal(400);
    const suspended = (await (await api(`/${id}/suspend`, { body: { reason: 'chargebacks' } })).json()) as Json;
    expect(suspended).to.include({ status: 'suspended', status_reason: 'chargebacks' });
    expect(((await (await api(`/${id}/reinstate`, { body: { reason: 'resolved' } })).json()) as Json).status).to.equal('active');
    expect(((await (await api(`/${id}/close`, { body: { reason: 'contract ended' } })).json()) as Json).status).to.equal('closed');
    expect((await api(`/${id}/reinstate`, { body: { reason: 'oops' } })).status).to.equal(409);
    expect((await api(`/${id}`, { method: 'PATCH', body: { name: 'Back' } })).status).to.equal(409);
    expect((await api(`/${id}/rotate-secret`, { body: {} })).status).to.equal(409);
  });

  it('answers bad input with a 4xx and a clear message, never a 500', async () => {
    const created = (await (await api('/', { body: siteBody() })).json()) as Json;
    const id = String(created.client_id);
    const checks: Array<[Promise<Response>, number]> = [
      [api('/', { token: null }), 401],
      [api('/', { token: 'wrong-token' }), 401],
      [api('/', { body: 'name=x', type: 'application/x-www-form-urlencoded' }), 415],
      [api('/', { body: '[1,2]' }), 400],
      [api('/', { body: '{"name":' }), 400],
      [api('/?status=deleted'), 400],
      [api('/no%20such%20id!'), 400],
      [api('/unknown-site'), 404],
      [api(`/${id}`, { method: 'PATCH', body: {} }), 400],
      [api(`/${id}`, { method: 'PATCH', body: { client_id: 'other' } }), 400],
      [api(`/${id}/suspend`, { body: { reason: 'x'.repeat(501) } }), 400],
      [api(`/${id}/suspend`, { body: { reason: 'ok', extra: 1 } }), 400],
      [api(`/${id}/rotate-secret`, { body: { overlap_seconds: -1 } }), 400],
      [api(`/${id}/rotate-secret`, { body: { overlap_seconds: 10 ** 9 } }), 400],
      [api('/unknown-site/suspend', { body: { reason: 'x' } }), 404],
    ];
    for (const [pending, status] of checks) {
      const res = await pending;
      const body = (await res.json()) as { error?: string; error_description?: string };
      expect(res.status, JSON.stringify(body)).to.equal(status);
      expect(body.error_description).to.be.a('string').and.not.equal('');
    }
    const after = (await (await api(`/${id}`)).json()) as Json;
    expect(after).to.deep.include({ status: 'active', name: created.name });
  });
});
