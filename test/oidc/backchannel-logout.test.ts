import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { findMemberSite } from '../../src/db/member-sites.ts';
import { sendDueLogouts } from '../../src/oidc/send-logout-tokens.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { scrape, valueOf } from '../helpers/metrics.ts';
import { runCli } from '../helpers/cli.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { startSiteEndpoints, type Posted, type SiteEndpoints } from '../helpers/site-endpoints.ts';

type Json = Record<string, unknown>;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('Back-Channel Logout 1.0: member sites are told when a holder’s session ends', () => {
  // The member sites' server: every POST it gets is recorded; each answers with the next status queued for its path, else 200.
  let sites: SiteEndpoints;
  let origin: string;
  const answers = {
    set: (path: string, statuses: number[]) => sites.answers.set(path, statuses.map((status) => ({ status }))),
  };
  let ts: TestServer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  // What the card manager logs: no subject, account or card number may be in it.
  const logLines: string[] = [];

  before(async () => {
    sites = await startSiteEndpoints({ status: 200 });
    origin = sites.origin;
    // The sites' server is on this machine: the provider may post there only when private addresses are allowed.
    ts = await startCardManager({ oidc: { allowPrivateFetch: true }, logLevel: 'info' }, { logStream: { write: (l: string) => void logLines.push(l) } });
    jwks = createRemoteJWKSet(new URL(`${ts.url}/jwks`));
  });
  after(async () => {
    await ts.stop();
    await sites.stop();
  });

  const tokensAt = (path: string) => sites.at(path);

  /** A member site on the sites' server whose backchannel_logout_uri is /logout/<tag> (none with `uri: false`), at `on`. */
  async function backchannelSite(opts: { sessionRequired?: boolean; uri?: boolean } = {}, on = ts): Promise<TestSite & { path: string }> {
    const tag = randomBytes(4).toString('hex');
    const path = `/logout/${tag}`;
    const redirectUri = `${origin}/callback/${tag}`;
    const postLogoutUri = `${origin}/bye/${tag}`;
    const site = await registerTestSite(on, {
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [postLogoutUri],
      ...(opts.uri === false ? {} : { backchannelLogoutUri: `${origin}${path}`, backchannelLogoutSessionRequired: opts.sessionRequired ?? false }),
    });
    return { ...site, redirectUri, postLogoutUri, path };
  }

  /** The holder logs in at the site (openid-client as the site) through `on`: the browser, and the tokens the site got. */
  async function logIn(site: TestSite, card: TestCard, on = ts) {
    const config = await siteClient(on, site);
    const req = await authRequest(config, site);
    const agent = new Agent(on.url);
    const result = await runLogin(agent, req.url, card);
    if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    return { agent, config, tokens, claims: tokens.claims()! };
  }

  /** The Logout Token of a POST, verified as the site must verify it (Back-Channel Logout §2.6) against the JWKS of `on`. */
  async function verified(r: Posted, site: TestSite, on = ts): Promise<JWTPayload> {
    expect(r.headers['content-type']).to.match(/^application\/x-www-form-urlencoded/);
    const token = new URLSearchParams(r.body).get('logout_token');
    expect(token, 'logout_token').to.be.a('string');
    const keys = on === ts ? jwks : createRemoteJWKSet(new URL(`${on.url}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token!, keys, { issuer: on.url, audience: site.clientId, typ: 'logout+jwt', maxTokenAge: 300 });
    expect(protectedHeader.kid).to.be.a('string');
    expect(payload.events).to.deep.equal({ [EVENT]: {} });
    expect(payload.jti).to.be.a('string');
    expect(payload).to.not.have.property('nonce');
    expect(payload.exp! - payload.iat!).to.be.within(1, 300);
    return payload;
  }

  const operator = (path: string, body: Json) =>
    fetch(`${ts.url}/admin/api${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('says so in discovery', async () => {
    const discovery = (await (await fetch(`${ts.url}/.well-known/openid-configuration`)).json()) as Json;
    expect(discovery).to.include({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  });

  describe('registration', () => {
    const siteApi = (body: Json, path = '/', method = 'POST') =>
      fetch(`${ts.url}/admin/api/sites${path}`, {
        method,
        headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    function siteBody(extra: Json = {}): Json {
      const host = `shop-${randomBytes(4).toString('hex')}.example.test`;
      return { name: 'Back-channel shop', redirect_uris: [`https://${host}/callback`], ...extra, __host: host };
    }
    const body = ({ __host: _h, ...b }: Json) => b;

    it('takes backchannel_logout_uri and backchannel_logout_session_required from the operator API, shows them, and gives them to the provider', async () => {
      const b = siteBody();
      const res = await siteApi(body({ ...b, backchannel_logout_uri: `https://${b.__host}/logout`, backchannel_logout_session_required: true }));
      expect(res.status).to.equal(201);
      const created = (await res.json()) as Json;
      expect(created).to.include({ backchannel_logout_uri: `https://${b.__host}/logout`, backchannel_logout_session_required: true });
      const client = await ts.cm.provider.Client.find(String(created.client_id));
      expect(client!.backchannelLogoutUri).to.equal(`https://${b.__host}/logout`);
      expect(client!.backchannelLogoutSessionRequired).to.equal(true);
      // Cleared again by an update.
      const cleared = await siteApi({ backchannel_logout_uri: null }, `/${String(created.client_id)}`, 'PATCH');
      expect(cleared.status).to.equal(200);
      expect(((await cleared.json()) as Json).backchannel_logout_uri).to.equal(null);
    });

    it('refuses a backchannel_logout_uri that is not a URL, has a fragment, is javascript:, ftp: or on another origin, storing nothing', async () => {
      const before = Number((await ts.db('member_sites').count({ n: '*' }).first())!.n);
      const b = siteBody();
      const host = String(b.__host);
      for (const uri of ['not a url', `https://${host}/logout#x`, 'javascript:alert(1)', `ftp://${host}/logout`, 'https://elsewhere.example.test/logout', 42]) {
        const res = await siteApi(body({ ...b, backchannel_logout_uri: uri }));
        expect(res.status, String(uri)).to.equal(400);
        const answer = (await res.json()) as { fields?: Json };
        expect(answer.fields, String(uri)).to.have.property('backchannel_logout_uri');
      }
      const res = await siteApi(body({ ...b, backchannel_logout_session_required: 'yes' }));
      expect(res.status).to.equal(400);
      expect(Number((await ts.db('member_sites').count({ n: '*' }).first())!.n)).to.equal(before);
    });

    it('takes them on the command line (sites register|update) and refuses a bad one', async () => {
      const host = `cli-${randomBytes(4).toString('hex')}.example.test`;
      const reg = await runCli('sites', 'register', '--name', 'CLI shop', '--redirect-uri', `https://${host}/cb`, '--backchannel-logout-uri', `https://${host}/logout`);
      expect(reg.code, reg.stderr).to.equal(0);
      const clientId = /client_id:\s+(\S+)/.exec(reg.stdout)![1]!;
      expect((await findMemberSite(ts.db, clientId))!.backchannelLogoutUri).to.equal(`https://${host}/logout`);
      const upd = await runCli('sites', 'update', '--client-id', clientId, '--backchannel-logout-session-required', 'yes');
      expect(upd.code, upd.stderr).to.equal(0);
      expect(JSON.parse(upd.stdout)).to.include({ backchannel_logout_session_required: true });
      const bad = await runCli('sites', 'update', '--client-id', clientId, '--backchannel-logout-uri', `https://${host}/logout#frag`);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.match(/--backchannel-logout-uri: Must not contain a fragment\./);
      expect((await findMemberSite(ts.db, clientId))!.backchannelLogoutUri).to.equal(`https://${host}/logout`);
    });
  });

  describe('registration by the site itself (RFC 7591/7592)', () => {
    let dcr: TestServer;
    before(async () => {
      dcr = await startCardManager({ registration: { enabled: true } });
    });
    after(() => dcr.stop());

    const register = (meta: Json) =>
      fetch(`${dcr.url}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${dcr.config.secrets.registrationToken}` },
        body: JSON.stringify(meta),
      });

    it('stores a good backchannel_logout_uri and refuses bad ones with invalid_client_metadata, storing nothing', async () => {
      const host = `dcr-${randomBytes(4).toString('hex')}.example.test`;
      const meta = { client_name: 'DCR shop', redirect_uris: [`https://${host}/cb`], scope: 'openid' };
      const count = async () => Number((await dcr.db('member_sites').count({ n: '*' }).first())!.n);
      const before = await count();
      for (const uri of ['not a url', `https://${host}/logout#x`, 'javascript:alert(1)', `ftp://${host}/logout`, 'https://elsewhere.example.test/logout']) {
        const res = await register({ ...meta, backchannel_logout_uri: uri });
        expect(res.status, uri).to.equal(400);
        expect(((await res.json()) as Json).error, uri).to.equal('invalid_client_metadata');
      }
      expect(await count()).to.equal(before);
      const res = await register({ ...meta, backchannel_logout_uri: `https://${host}/logout`, backchannel_logout_session_required: true });
      expect(res.status).to.equal(201);
      const created = (await res.json()) as Json;
      expect(created).to.include({ backchannel_logout_uri: `https://${host}/logout`, backchannel_logout_session_required: true });
      const site = await findMemberSite(dcr.db, String(created.client_id));
      expect(site).to.include({ backchannelLogoutUri: `https://${host}/logout`, backchannelLogoutSessionRequired: true });
    });
  });

  /**
   * The holder, signed in at the site, signs out at the card manager from there (RP-initiated logout): of the card
   * manager too (`everywhere`), or of this site only. The confirmation's answer, and how long it took.
   */
  async function signOut(login: Awaited<ReturnType<typeof logIn>>, site: TestSite, everywhere = true) {
    const end = client.buildEndSessionUrl(login.config, { id_token_hint: login.tokens.id_token!, post_logout_redirect_uri: site.postLogoutUri });
    const html = await (await login.agent.get(end)).text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const started = performance.now();
    const res = await login.agent.post('/session/end/confirm', everywhere ? { xsrf, logout: 'yes' } : { xsrf });
    return { res, ms: performance.now() - started };
  }

  const rowsOf = (site: TestSite) => ts.db('backchannel_logouts').where({ client_id: site.clientId }).orderBy('id');

  describe('when the holder signs out at the card manager (RP-initiated logout)', () => {
    it('queues the site one Logout Token in the outbox, which posts it with the sub and sid of its ID token', async () => {
      const site = await backchannelSite({ sessionRequired: true });
      const card = await issueTestCard(ts);
      const login = await logIn(site, card);
      expect(login.claims.sid).to.be.a('string');
      const { res } = await signOut(login, site);
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal(site.postLogoutUri);
      // Nothing is posted from the sign-out itself (oidc/queue-logouts-at-sign-out.ts): an oidc-provider that posted
      // there again, past our hook, would have the site hear of it here, and leave no row.
      expect(tokensAt(site.path)).to.have.length(0);
      expect(await rowsOf(site).select('account_id', 'sid', 'reason', 'status', 'attempts')).to.deep.equal([
        { account_id: card.accountId, sid: login.claims.sid, reason: 'signed out at the card manager', status: 'pending', attempts: 0 },
      ]);
      await sendDueLogouts(ts.cm.logouts);
      const got = tokensAt(site.path);
      expect(got).to.have.length(1);
      const payload = await verified(got[0]!, site);
      expect(payload.sub).to.equal(login.claims.sub);
      expect(payload.sid).to.equal(login.claims.sid);
      expect(await rowsOf(site).select('status', 'attempts')).to.deep.equal([{ status: 'sent', attempts: 1 }]);
      // Sent once.
      await sendDueLogouts(ts.cm.logouts);
      expect(tokensAt(site.path)).to.have.length(1);
    });

    it('answers at once when the site takes 3 s to answer, and the outbox posts the site its token', async () => {
      const site = await backchannelSite();
      const card = await issueTestCard(ts);
      const login = await logIn(site, card);
      sites.answers.set(site.path, [{ status: 200, delayMs: 3000 }]);
      const { res, ms } = await signOut(login, site);
      expect(res.status).to.equal(303);
      // The provider's own post waited up to 2.5 s for each slow site.
      expect(ms).to.be.below(1500);
      expect(tokensAt(site.path)).to.have.length(0);
      await sendDueLogouts(ts.cm.logouts);
      const got = tokensAt(site.path);
      expect(got).to.have.length(1);
      const payload = await verified(got[0]!, site);
      expect(payload.sub).to.equal(login.claims.sub);
      expect(payload).to.not.have.property('sid');
      expect(await rowsOf(site).select('status', 'attempts')).to.deep.equal([{ status: 'sent', attempts: 1 }]);
    });

    it('tells only the site the holder came from when they stay signed in at the card manager, with that site’s sid', async () => {
      const left = await backchannelSite({ sessionRequired: true });
      const stays = await backchannelSite({ sessionRequired: true });
      const card = await issueTestCard(ts);
      const login = await logIn(left, card);
      // The same browser signs in at a second site: one card-manager session, a sid per site.
      const config = await siteClient(ts, stays);
      const req = await authRequest(config, stays);
      const result = await runLogin(login.agent, req.url, card);
      if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
      const other = (await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce })).claims()!;
      expect(other.sid).to.be.a('string');
      const { res } = await signOut(login, left, false);
      expect(res.status).to.equal(303);
      expect(await rowsOf(left).select('sid')).to.deep.equal([{ sid: login.claims.sid }]);
      expect(await rowsOf(stays)).to.have.length(0);
      await sendDueLogouts(ts.cm.logouts);
      expect((await verified(tokensAt(left.path)[0]!, left)).sid).to.equal(login.claims.sid);
      expect(tokensAt(stays.path)).to.have.length(0);
    });
  });

  describe('with the sender running, as in production (backchannelLogout.senderIntervalSeconds)', () => {
    let live: TestServer;
    before(async () => {
      // A pass an hour: within the test, only a sign-out's own call drains.
      live = await startCardManager({ oidc: { allowPrivateFetch: true }, backchannelLogout: { senderIntervalSeconds: 3600 } });
    });
    after(() => live.stop());

    it('posts a sign-out’s Logout Token once the sign-out commits, not at the sender’s next pass', async () => {
      const site = await backchannelSite({ sessionRequired: true }, live);
      const card = await issueTestCard(live);
      const login = await logIn(site, card, live);
      const { res } = await signOut(login, site);
      expect(res.status).to.equal(303);
      for (let i = 0; i < 100 && !tokensAt(site.path).length; i++) await new Promise((r) => setTimeout(r, 20));
      const got = tokensAt(site.path);
      expect(got, 'posted within 2 s of the sign-out').to.have.length(1);
      const payload = await verified(got[0]!, site, live);
      expect(payload.sub).to.equal(login.claims.sub);
      expect(payload.sid).to.equal(login.claims.sid);
      for (let i = 0; i < 100 && (await rowsOf(site).first('status')).status !== 'sent'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await rowsOf(site).select('status', 'attempts')).to.deep.equal([{ status: 'sent', attempts: 1 }]);
    });

    it('posts the Logout Token of an operator’s block as soon as the block commits, heard through the database by every instance', async () => {
      const site = await backchannelSite({}, live);
      const card = await issueTestCard(live);
      const login = await logIn(site, card, live);
      const res = await fetch(`${live.url}/admin/api/cards/${card.cardId}/block`, {
        method: 'POST',
        headers: { authorization: `Bearer ${live.config.secrets.operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'fraud suspected' }),
      });
      expect(res.status).to.equal(200);
      for (let i = 0; i < 100 && !tokensAt(site.path).length; i++) await new Promise((r) => setTimeout(r, 20));
      const got = tokensAt(site.path);
      expect(got, 'posted within 2 s of the block').to.have.length(1);
      expect((await verified(got[0]!, site, live)).sub).to.equal(login.claims.sub);
    });
  });

  describe('when the holder signs out and the site is down', () => {
    it('keeps the Logout Token in the outbox and tries it again after its backoff, until the site is back and takes it', async () => {
      // The site's own server, stopped once the holder signed in there: nothing listens at its address.
      let down = await startSiteEndpoints({ status: 200 });
      const port = Number(new URL(down.origin).port);
      const [redirectUri, postLogoutUri] = [`${down.origin}/callback`, `${down.origin}/bye`];
      const registered = await registerTestSite(ts, { redirectUris: [redirectUri], postLogoutRedirectUris: [postLogoutUri], backchannelLogoutUri: `${down.origin}/logout` });
      const site = { ...registered, redirectUri, postLogoutUri };
      const card = await issueTestCard(ts);
      const login = await logIn(site, card);
      await down.stop();
      const { res, ms } = await signOut(login, site);
      expect(res.status).to.equal(303);
      expect(ms).to.be.below(1500);
      // Queued, not tried yet: the outbox makes every attempt, the first one included.
      expect(await rowsOf(site).select('status', 'attempts')).to.deep.equal([{ status: 'pending', attempts: 0 }]);
      await sendDueLogouts(ts.cm.logouts);
      const [row] = await rowsOf(site);
      expect(row).to.include({ status: 'pending', attempts: 1 });
      expect(row.last_error).to.be.a('string').and.not.equal('');
      // Waiting for its backoff: not tried again at once.
      await sendDueLogouts(ts.cm.logouts);
      expect(await rowsOf(site).first('attempts')).to.deep.equal({ attempts: 1 });
      down = await startSiteEndpoints({ status: 200 }, port);
      try {
        await ts.db('backchannel_logouts').where({ id: row.id }).update({ next_attempt_at: ts.db.fn.now() });
        await sendDueLogouts(ts.cm.logouts);
        expect(await rowsOf(site).select('status', 'attempts')).to.deep.equal([{ status: 'sent', attempts: 2 }]);
        const got = down.at('/logout');
        expect(got).to.have.length(1);
        expect((await verified(got[0]!, site)).sub).to.equal(login.claims.sub);
      } finally {
        await down.stop();
      }
    });
  });

  describe('when the card manager ends the holder’s sessions itself', () => {
    it('posts one Logout Token to each site the holder was signed in at when the operator blocks the card, and nothing to a site without a URI', async () => {
      const site = await backchannelSite();
      const withSid = await backchannelSite({ sessionRequired: true });
      const silent = await backchannelSite({ uri: false });
      const card = await issueTestCard(ts);
      const a = await logIn(site, card);
      const b = await logIn(withSid, card);
      await logIn(silent, card);
      const res = await operator(`/cards/${card.cardId}/block`, { reason: 'fraud suspected' });
      expect(res.status).to.equal(200);
      // Queued in the block's transaction; nothing is posted before the sender runs.
      expect(tokensAt(site.path)).to.have.length(0);
      await sendDueLogouts(ts.cm.logouts);
      for (const s of [site, withSid]) expect(await ts.db('backchannel_logouts').where({ client_id: s.clientId }).select('status', 'attempts')).to.deep.equal([{ status: 'sent', attempts: 1 }]);
      const [one] = tokensAt(site.path);
      const first = await verified(one!, site);
      expect(first.sub).to.equal(a.claims.sub);
      expect(first).to.not.have.property('sid');
      const [two] = tokensAt(withSid.path);
      const second = await verified(two!, withSid);
      expect(second.sub).to.equal(b.claims.sub);
      expect(second.sid).to.equal(b.claims.sid);
      // The pairwise subjects differ per site, and no card number is in either token.
      expect(first.sub).to.not.equal(second.sub);
      for (const r of [one!, two!]) expect(JSON.stringify(decodeJwt(new URLSearchParams(r.body).get('logout_token')!))).to.not.include(card.number).and.not.include(card.accountId);
      // Sent once: another drain sends nothing again.
      await sendDueLogouts(ts.cm.logouts);
      expect(tokensAt(site.path)).to.have.length(1);
      expect(tokensAt(withSid.path)).to.have.length(1);
      expect(await ts.db('backchannel_logouts').where({ client_id: silent.clientId })).to.have.length(0);
      const senderLines = logLines.filter((l) => l.includes('back-channel logout'));
      expect(senderLines.length).to.be.at.least(2);
      for (const l of senderLines) expect(l).to.not.include(card.number).and.not.include(card.accountId).and.not.include(String(first.sub));
    });

    it('tries again, after its backoff, a site that answered 500, and gives up after the last attempt', async () => {
      const site = await backchannelSite();
      const card = await issueTestCard(ts);
      const { claims } = await logIn(site, card);
      const counted = async (outcome: string) => valueOf(await scrape(ts), 'cybercard_backchannel_logouts_total', { outcome });
      const [retries, sends] = [await counted('retry'), await counted('sent')];
      answers.set(site.path, [500]);
      expect((await operator(`/cards/${card.cardId}/lost`, { reason: 'holder called' })).status).to.equal(200);
      await sendDueLogouts(ts.cm.logouts);
      const row = await ts.db('backchannel_logouts').where({ client_id: site.clientId }).first();
      expect(row).to.include({ status: 'pending', attempts: 1 });
      expect(row.last_error).to.match(/500/);
      // Waiting for its backoff: not tried again at once.
      await sendDueLogouts(ts.cm.logouts);
      expect(tokensAt(site.path)).to.have.length(1);
      await ts.db('backchannel_logouts').where({ id: row.id }).update({ next_attempt_at: ts.db.fn.now() });
      await sendDueLogouts(ts.cm.logouts);
      const got = tokensAt(site.path);
      expect(got).to.have.length(2);
      // Each attempt is a fresh token: its own jti, the same sub.
      const [t1, t2] = [decodeJwt(new URLSearchParams(got[0]!.body).get('logout_token')!), await verified(got[1]!, site)];
      expect(t2.sub).to.equal(claims.sub);
      expect(t2.jti).to.not.equal(t1.jti);
      expect(decodeProtectedHeader(new URLSearchParams(got[1]!.body).get('logout_token')!).typ).to.equal('logout+jwt');
      expect(await ts.db('backchannel_logouts').where({ id: row.id }).first()).to.include({ status: 'sent', attempts: 2 });
      // At least: a drain also tries what other test files left due.
      expect(await counted('retry')).to.be.at.least(retries + 1);
      expect(await counted('sent')).to.be.at.least(sends + 1);

      // A site that never answers well is given up on after logoutDelivery.maxAttempts.
      const down = await backchannelSite();
      const other = await issueTestCard(ts);
      await logIn(down, other);
      answers.set(down.path, Array(20).fill(500) as number[]);
      expect((await operator(`/cards/${other.cardId}/block`, { reason: 'test' })).status).to.equal(200);
      for (let i = 0; i < ts.config.backchannelLogout.maxAttempts; i++) {
        await ts.db('backchannel_logouts').where({ client_id: down.clientId }).update({ next_attempt_at: ts.db.fn.now() });
        await sendDueLogouts(ts.cm.logouts);
      }
      expect(await ts.db('backchannel_logouts').where({ client_id: down.clientId }).first()).to.include({ status: 'failed', attempts: ts.config.backchannelLogout.maxAttempts });
      expect(tokensAt(down.path)).to.have.length(ts.config.backchannelLogout.maxAttempts);
    });

    it('takes 200 or 204 as delivered (§2.8), as oidc-provider’s own post did, and not 202', async () => {
      for (const [status, delivered] of [[204, true], [202, false]] as const) {
        const site = await backchannelSite();
        const card = await issueTestCard(ts);
        await logIn(site, card);
        answers.set(site.path, [status]);
        expect((await operator(`/cards/${card.cardId}/block`, { reason: 'test' })).status).to.equal(200);
        await sendDueLogouts(ts.cm.logouts);
        const row = await ts.db('backchannel_logouts').where({ client_id: site.clientId }).first();
        expect(row.status, String(status)).to.equal(delivered ? 'sent' : 'pending');
        if (!delivered) expect(row.last_error).to.match(/202/);
      }
    });

    it('posts each logout once when two senders drain at the same time', async () => {
      const many = await Promise.all([1, 2, 3, 4].map(() => backchannelSite()));
      const card = await issueTestCard(ts);
      for (const site of many) await logIn(site, card);
      expect((await operator(`/cards/${card.cardId}/close`, { reason: 'holder asked' })).status).to.equal(200);
      await Promise.all([sendDueLogouts(ts.cm.logouts), sendDueLogouts(ts.cm.logouts)]);
      for (const site of many) expect(tokensAt(site.path), site.clientId).to.have.length(1);
    });

    it('queues nothing when the block rolls back or the holder was signed in nowhere', async () => {
      const site = await backchannelSite();
      const card = await issueTestCard(ts);
      await logIn(site, card);
      const before = Number((await ts.db('backchannel_logouts').count({ n: '*' }).first())!.n);
      // A bad request is refused before anything changes.
      expect((await operator(`/cards/${card.cardId}/block`, { reason: '' })).status).to.equal(400);
      const idle = await issueTestCard(ts);
      expect((await operator(`/cards/${idle.cardId}/block`, { reason: 'test' })).status).to.equal(200);
      expect(Number((await ts.db('backchannel_logouts').count({ n: '*' }).first())!.n)).to.equal(before);
    });
  });
});
