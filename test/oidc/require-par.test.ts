import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { findMemberSite } from '../../src/db/member-sites.ts';
import { Agent, runLogin, type FlowResult } from '../helpers/agent.ts';
import { birthdateForAge } from '../helpers/applicant.ts';
import { runCli } from '../helpers/cli.ts';
import { authRequest, issueTestCard, payRequest, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { operator } from '../ledger/fixtures.ts';

type Json = Record<string, unknown>;

// Written out, not imported: the test pins the words a site sees.
const SITE_PAR_REFUSAL =
  'this member site must push every authorization request through PAR (RFC 9126): send it to the pushed authorization request endpoint, then open the request_uri it answers';

const PAYMENT = { type: 'payment', amount: '1500', currency: 'KRW', description: 'Episode 12' };

/**
 * Anyone can write a front-channel authorization URL with a site's client_id, its registered redirect_uri and any
 * amount: the holder sees the real site and amount, and approving would hold credit the site never asked for. Only
 * the site itself, authenticated at PAR (RFC 9126), can push a request; requiring PAR closes that door, per site
 * (require_pushed_authorization_requests, RFC 9126 §6) or for every payment (payments.requirePar).
 */
describe('requiring pushed authorization requests (RFC 9126)', () => {
  async function holder(ts: TestServer): Promise<TestCard> {
    const card = await issueTestCard(ts, birthdateForAge(30));
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 100_000 });
    return card;
  }

  /** The same payment (or a plain login) as a plain front-channel URL, not pushed: what anyone could write. */
  function plainRequest(config: client.Configuration, site: TestSite, payment: boolean) {
    return authRequest(config, site, payment ? { resource: site.resource, authorization_details: JSON.stringify([PAYMENT]) } : {});
  }

  /** Where the browser lands at the site's callback: its query, or a failure naming the page it stopped on. */
  function atCallback(result: FlowResult, site: TestSite): URLSearchParams {
    if (result.kind !== 'redirect') throw new Error(`expected the site's callback, got page ${result.status}`);
    expect(`${result.url.origin}${result.url.pathname}`).to.equal(site.redirectUri);
    return result.url.searchParams;
  }

  const approvalsOf = async (ts: TestServer, site: TestSite) => Number((await ts.db('approvals').where({ client_id: site.clientId }).count({ n: '*' }).first())!.n);

  describe('for one member site (require_pushed_authorization_requests)', () => {
    let ts: TestServer;
    let token: string;
    before(async () => {
      ts = await startCardManager({ registration: { enabled: true } });
      token = ts.config.secrets.registrationToken!;
    });
    after(() => ts.stop());

    it('sends a request not pushed through PAR back to the site as invalid_request, payment or login, nothing held; a pushed one goes through', async () => {
      const site = await registerTestSite(ts, { requirePushedAuthorizationRequests: true });
      const config = await siteClient(ts, site);
      const card = await holder(ts);
      for (const payment of [true, false]) {
        const req = await plainRequest(config, site, payment);
        const back = atCallback(await runLogin(new Agent(ts.url), req.url, card), site);
        expect(back.get('error')).to.equal('invalid_request');
        expect(back.get('error_description')).to.equal(SITE_PAR_REFUSAL);
        expect(back.get('state')).to.equal(req.state);
      }
      expect(await approvalsOf(ts, site)).to.equal(0);
      const pushed = await payRequest(config, site, [PAYMENT]);
      expect(atCallback(await runLogin(new Agent(ts.url), pushed.url, card), site).get('code')).to.be.a('string');
      expect(await approvalsOf(ts, site)).to.equal(1);
    });

    it('says so in its own words in a form_post or fragment response too, and leaves other sites and other errors in the provider\'s', async () => {
      const site = await registerTestSite(ts, { requirePushedAuthorizationRequests: true });
      const config = await siteClient(ts, site);
      const fragment = await authRequest(config, site, { response_mode: 'fragment' });
      const res = await fetch(fragment.url, { redirect: 'manual' });
      expect(res.status).to.equal(303);
      const hash = new URLSearchParams(new URL(res.headers.get('location')!).hash.slice(1));
      expect(hash.get('error')).to.equal('invalid_request');
      expect(hash.get('error_description')).to.equal(SITE_PAR_REFUSAL);
      const posted = await authRequest(config, site, { response_mode: 'form_post' });
      const page = await fetch(posted.url, { redirect: 'manual' });
      const html = await page.text();
      expect(html).to.include('name="error" value="invalid_request"');
      expect(html).to.include(`name="error_description" value="${SITE_PAR_REFUSAL}"`);
      // Another request error at the same site keeps the provider's description (a parameter given twice here).
      const wrong = new URL(fragment.url);
      wrong.searchParams.append('nonce', 'twice');
      const other = await fetch(wrong, { redirect: 'manual' });
      const otherHash = new URLSearchParams(new URL(other.headers.get('location')!).hash.slice(1));
      expect(otherHash.get('error')).to.equal('invalid_request');
      expect(otherHash.get('error_description')).to.equal("'nonce' parameter must not be provided twice");
    });

    it('is set by the operator API, shown in reads and given to the provider; a value other than true or false is refused, nothing changed', async () => {
      const tag = randomBytes(4).toString('hex');
      const body = { name: `Shop ${tag}`, redirect_uris: [`https://shop-${tag}.example.test/callback`] };
      const count = async () => Number((await ts.db('member_sites').count({ n: '*' }).first())!.n);
      const before = await count();
      for (const bad of ['yes', 1, null, [true]]) {
        const res = await operator(ts, 'POST', '/admin/api/sites', { ...body, require_pushed_authorization_requests: bad });
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect((res.json.fields as Json).require_pushed_authorization_requests).to.equal('Must be true or false.');
      }
      expect(await count()).to.equal(before);
      const created = await operator(ts, 'POST', '/admin/api/sites', { ...body, require_pushed_authorization_requests: true });
      expect(created.status).to.equal(201);
      const id = String(created.json.client_id);
      const read = await operator(ts, 'GET', `/admin/api/sites/${id}`);
      expect(read.json.require_pushed_authorization_requests).to.equal(true);
      expect((await ts.cm.provider.Client.find(id))!.requirePushedAuthorizationRequests).to.equal(true);
      const bad = await operator(ts, 'PATCH', `/admin/api/sites/${id}`, { require_pushed_authorization_requests: 'false' });
      expect(bad.status).to.equal(400);
      expect((await findMemberSite(ts.db, id))!.requirePushedAuthorizationRequests).to.equal(true);
      const off = await operator(ts, 'PATCH', `/admin/api/sites/${id}`, { require_pushed_authorization_requests: false });
      expect(off.status).to.equal(200);
      expect(off.json.require_pushed_authorization_requests).to.equal(false);
      // A site registered before the field, or without it, does not require PAR.
      const plain = await operator(ts, 'POST', '/admin/api/sites', { ...body, name: `Other ${tag}` });
      expect(plain.json.require_pushed_authorization_requests).to.equal(false);
    });

    it('is set by the CLI with --require-par yes|no, refusing anything else', async () => {
      const site = await registerTestSite(ts);
      const on = await runCli('sites', 'update', '--client-id', site.clientId, '--require-par', 'yes');
      expect(on.code, on.stderr).to.equal(0);
      expect(JSON.parse(on.stdout)).to.include({ require_pushed_authorization_requests: true });
      const bad = await runCli('sites', 'update', '--client-id', site.clientId, '--require-par', 'maybe');
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.include('--require-par: Must be yes or no.');
      expect((await findMemberSite(ts.db, site.clientId))!.requirePushedAuthorizationRequests).to.equal(true);
      const off = await runCli('sites', 'update', '--client-id', site.clientId, '--require-par', 'no');
      expect(JSON.parse(off.stdout)).to.include({ require_pushed_authorization_requests: false });
    });

    describe('in a site’s own registration (RFC 7591/7592)', () => {
      function metadata(extra: Json = {}): Json {
        const host = `dcr-${randomBytes(4).toString('hex')}.example.test`;
        return { client_name: 'Self-registered shop', redirect_uris: [`https://${host}/callback`], scope: 'openid', ...extra };
      }
      const reg = (method: string, url: string, auth: string, body: unknown) =>
        fetch(url, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });

      /** Registers a site through RFC 7591; its metadata as a PUT (RFC 7592 §2.2) sends it back, and where to send it. */
      async function register(extra: Json = {}) {
        const res = await reg('POST', `${ts.url}/reg`, token, metadata(extra));
        expect(res.status).to.equal(201);
        const created = (await res.json()) as Json;
        const { registration_client_uri, registration_access_token, client_id_issued_at, client_secret_expires_at, ...meta } = created;
        void client_id_issued_at;
        void client_secret_expires_at;
        const id = String(created.client_id);
        let rat = String(registration_access_token);
        /** A PUT of the site's metadata with `change`: the answer's require_pushed_authorization_requests and status. */
        const put = async (change: Json) => {
          const res = await reg('PUT', String(registration_client_uri), rat, { ...meta, ...change });
          const body = (await res.json()) as Json;
          // The registration access token rotates with each update (rotateRegistrationAccessToken).
          if (typeof body.registration_access_token === 'string') rat = body.registration_access_token;
          return { status: res.status, par: body.require_pushed_authorization_requests, body };
        };
        const stored = async () => {
          const row = await ts.db('member_sites').where({ client_id: id }).first('require_pushed_authorization_requests', 'require_par_by_site');
          return { on: row.require_pushed_authorization_requests as boolean, bySite: row.require_par_by_site as boolean };
        };
        return { id, created, put, stored };
      }

      it('is kept when the site turns it on in its registration, answered as kept, and the site may turn it off again', async () => {
        const site = await register({ require_pushed_authorization_requests: true });
        expect(site.created.require_pushed_authorization_requests).to.equal(true);
        expect(await site.stored()).to.deep.equal({ on: true, bySite: true });
        const kept = await site.put({ require_pushed_authorization_requests: true });
        expect([kept.status, kept.par]).to.deep.equal([200, true]);
        expect(await site.stored()).to.deep.equal({ on: true, bySite: true });
        const off = await site.put({ require_pushed_authorization_requests: false });
        expect([off.status, off.par]).to.deep.equal([200, false]);
        expect(await site.stored()).to.deep.equal({ on: false, bySite: false });
        expect((await ts.cm.provider.Client.find(site.id))!.requirePushedAuthorizationRequests).to.equal(false);
        // RFC 7592 §2.2: a field left out of an update is cleared, so one the site set goes off when it leaves it out.
        await site.put({ require_pushed_authorization_requests: true });
        const omitted = await site.put({ require_pushed_authorization_requests: undefined });
        expect([omitted.status, omitted.par]).to.deep.equal([200, false]);
        expect(await site.stored()).to.deep.equal({ on: false, bySite: false });
      });

      it('is never turned off by the site once the operator set it, sent false or left out; the operator still can', async () => {
        const site = await register();
        const on = await operator(ts, 'PATCH', `/admin/api/sites/${site.id}`, { require_pushed_authorization_requests: true });
        expect(on.status).to.equal(200);
        expect(on.json.require_pushed_authorization_requests_set_by).to.equal('operator');
        expect(await site.stored()).to.deep.equal({ on: true, bySite: false });
        for (const change of [{ require_pushed_authorization_requests: false }, { require_pushed_authorization_requests: undefined }, { require_pushed_authorization_requests: true }]) {
          const res = await site.put(change);
          expect([res.status, res.par], JSON.stringify(change)).to.deep.equal([200, true]);
          expect(await site.stored(), JSON.stringify(change)).to.deep.equal({ on: true, bySite: false });
        }
        const off = await operator(ts, 'PATCH', `/admin/api/sites/${site.id}`, { require_pushed_authorization_requests: false });
        expect(off.json.require_pushed_authorization_requests_set_by).to.equal(null);
        expect(await site.stored()).to.deep.equal({ on: false, bySite: false });
      });

      it('becomes the operator\'s when the operator sets it on a site that set it itself: the site can then no longer clear it', async () => {
        const site = await register({ require_pushed_authorization_requests: true });
        const read = await operator(ts, 'GET', `/admin/api/sites/${site.id}`);
        expect(read.json.require_pushed_authorization_requests_set_by).to.equal('site');
        await operator(ts, 'PATCH', `/admin/api/sites/${site.id}`, { require_pushed_authorization_requests: true });
        expect(await site.stored()).to.deep.equal({ on: true, bySite: false });
        const off = await site.put({ require_pushed_authorization_requests: false });
        expect([off.status, off.par]).to.deep.equal([200, true]);
        expect(await site.stored()).to.deep.equal({ on: true, bySite: false });
      });

      it('refuses an update with a value other than true or false, leaving who set it as it was', async () => {
        const site = await register({ require_pushed_authorization_requests: true });
        // (null is no bad value: the provider takes it as left out, RFC 7592 §2.2, which clears one the site set.)
        for (const bad of ['false', 0, 'no', [false], { on: false }]) {
          const res = await site.put({ require_pushed_authorization_requests: bad });
          expect(res.status, JSON.stringify(bad)).to.equal(400);
          expect(res.body.error).to.equal('invalid_client_metadata');
          expect(await site.stored(), JSON.stringify(bad)).to.deep.equal({ on: true, bySite: true });
        }
      });

      it('lets a site turn it on by an update, after registering without it', async () => {
        const created = (await (await reg('POST', `${ts.url}/reg`, token, metadata())).json()) as Json;
        expect(created.require_pushed_authorization_requests).to.equal(false);
        const { registration_client_uri, registration_access_token, client_id_issued_at, client_secret_expires_at, ...meta } = created;
        void client_id_issued_at;
        void client_secret_expires_at;
        const on = await reg('PUT', String(registration_client_uri), String(registration_access_token), { ...meta, require_pushed_authorization_requests: true });
        expect(on.status).to.equal(200);
        expect(((await on.json()) as Json).require_pushed_authorization_requests).to.equal(true);
        expect((await findMemberSite(ts.db, String(created.client_id)))!.requirePushedAuthorizationRequests).to.equal(true);
      });

      it('refuses a value other than true or false with invalid_client_metadata, storing nothing', async () => {
        const count = async () => Number((await ts.db('member_sites').count({ n: '*' }).first())!.n);
        const before = await count();
        const res = await reg('POST', `${ts.url}/reg`, token, metadata({ require_pushed_authorization_requests: 'yes' }));
        expect(res.status).to.equal(400);
        expect(((await res.json()) as Json).error).to.equal('invalid_client_metadata');
        expect(await count()).to.equal(before);
      });
    });
  });

  describe('for every payment (payments.requirePar)', () => {
    let ts: TestServer;
    before(async () => {
      ts = await startCardManager({ payments: { requirePar: true } });
    });
    after(() => ts.stop());

    it('sends a payment not pushed through PAR back to the site as invalid_request, nothing held or recorded; pushed, it is approved', async () => {
      const site = await registerTestSite(ts);
      const config = await siteClient(ts, site);
      const card = await holder(ts);
      const entries = async () => Number((await ts.db('journal_entries').count({ n: '*' }).first())!.n);
      const before = await entries();
      const req = await plainRequest(config, site, true);
      const back = atCallback(await runLogin(new Agent(ts.url), req.url, card), site);
      expect(back.get('error')).to.equal('invalid_request');
      expect(back.get('error_description')).to.equal('payments must be pushed through PAR (RFC 9126): send the authorization_details to the pushed authorization request endpoint');
      expect(back.get('state')).to.equal(req.state);
      expect(await approvalsOf(ts, site)).to.equal(0);
      expect(await entries()).to.equal(before);
      const pushed = await payRequest(config, site, [PAYMENT]);
      expect(atCallback(await runLogin(new Agent(ts.url), pushed.url, card), site).get('code')).to.be.a('string');
      expect(await approvalsOf(ts, site)).to.equal(1);
    });

    it('still lets a plain login through without PAR', async () => {
      const site = await registerTestSite(ts);
      const config = await siteClient(ts, site);
      const req = await plainRequest(config, site, false);
      const back = atCallback(await runLogin(new Agent(ts.url), req.url, await holder(ts)), site);
      expect(back.get('error')).to.equal(null);
      expect(back.get('code')).to.be.a('string');
    });
  });
});
