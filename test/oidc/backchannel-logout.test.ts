import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { findMemberSite } from '../../src/db/member-sites.ts';
import { close } from '../../src/server.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { runCli } from '../helpers/cli.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Json = Record<string, unknown>;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What one POST to a site's backchannel_logout_uri carried. */
interface Received {
  path: string;
  contentType: string | undefined;
  body: URLSearchParams;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

describe('Back-Channel Logout 1.0: member sites are told when a holder’s session ends', () => {
  // The member sites' server: every POST it gets is recorded; each answers with the next status queued for its path, else 200.
  let sites: Server;
  let origin: string;
  const received: Received[] = [];
  const answers = new Map<string, number[]>();
  let ts: TestServer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  before(async () => {
    sites = createServer((req, res) => {
      void readBody(req).then((text) => {
        const path = req.url ?? '/';
        if (req.method === 'POST') received.push({ path, contentType: req.headers['content-type'], body: new URLSearchParams(text) });
        res.writeHead(answers.get(path)?.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => sites.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(sites.address() as AddressInfo).port}`;
    // The sites' server is on this machine: the provider may post there only when private addresses are allowed.
    ts = await startCardManager({ oidc: { allowPrivateFetch: true } });
    jwks = createRemoteJWKSet(new URL(`${ts.url}/jwks`));
  });
  after(async () => {
    await ts.stop();
    sites.closeAllConnections();
    await close(sites);
  });

  const tokensAt = (path: string) => received.filter((r) => r.path === path);

  /** A member site on the sites' server whose backchannel_logout_uri is /logout/<tag> (none with `uri: false`). */
  async function backchannelSite(opts: { sessionRequired?: boolean; uri?: boolean } = {}): Promise<TestSite & { path: string }> {
    const tag = randomBytes(4).toString('hex');
    const path = `/logout/${tag}`;
    const redirectUri = `${origin}/callback/${tag}`;
    const postLogoutUri = `${origin}/bye/${tag}`;
    const site = await registerTestSite(ts, {
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [postLogoutUri],
      ...(opts.uri === false ? {} : { backchannelLogoutUri: `${origin}${path}`, backchannelLogoutSessionRequired: opts.sessionRequired ?? false }),
    });
    return { ...site, redirectUri, postLogoutUri, path };
  }

  /** The holder logs in at the site (openid-client as the site): the browser, and the tokens the site got. */
  async function logIn(site: TestSite, card: TestCard) {
    const config = await siteClient(ts, site);
    const req = await authRequest(config, site);
    const agent = new Agent(ts.url);
    const result = await runLogin(agent, req.url, card);
    if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
    const tokens = await client.authorizationCodeGrant(config, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    return { agent, config, tokens, claims: tokens.claims()! };
  }

  /** The Logout Token of a POST, verified as the site must verify it (Back-Channel Logout §2.6) against our JWKS. */
  async function verified(r: Received, site: TestSite): Promise<JWTPayload> {
    expect(r.contentType).to.match(/^application\/x-www-form-urlencoded/);
    const token = r.body.get('logout_token');
    expect(token, 'logout_token').to.be.a('string');
    const { payload, protectedHeader } = await jwtVerify(token!, jwks, { issuer: ts.url, audience: site.clientId, typ: 'logout+jwt', maxTokenAge: 300 });
    expect(protectedHeader.kid).to.be.a('string');
    expect(payload.events).to.deep.equal({ [EVENT]: {} });
    expect(payload.jti).to.be.a('string');
    expect(payload).to.not.have.property('nonce');
    expect(payload.exp! - payload.iat!).to.be.within(1, 300);
    return payload;
  }

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

  describe('when the holder signs out at the card manager (RP-initiated logout)', () => {
    it('posts the site one Logout Token with the sub and sid of its ID token', async () => {
      const site = await backchannelSite({ sessionRequired: true });
      const card = await issueTestCard(ts);
      const { agent, config, tokens, claims } = await logIn(site, card);
      expect(claims.sid).to.be.a('string');
      const end = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: site.postLogoutUri });
      const html = await (await agent.get(end)).text();
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
      const res = await agent.post('/session/end/confirm', { xsrf, logout: 'yes' });
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal(site.postLogoutUri);
      const got = tokensAt(site.path);
      expect(got).to.have.length(1);
      const payload = await verified(got[0]!, site);
      expect(payload.sub).to.equal(claims.sub);
      expect(payload.sid).to.equal(claims.sid);
    });
  });
});
