import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import { findMemberSite, upsertResourceServer } from '../../src/db/member-sites.ts';
import { FETCHED_BODY_LIMIT } from '../../src/oidc/provider.ts';
import { close } from '../../src/server.ts';
import { revokeOpenApprovalsForCard } from '../../src/approvals/revoke-for-card.ts';
import { queueLogout } from '../../src/db/backchannel-logouts.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { sendDueApprovalEvents } from '../../src/oidc/send-approval-events.ts';
import { sendDueLogouts } from '../../src/oidc/send-logout-tokens.ts';
import { registerTestSite, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { approveFor, cardWithLimit } from '../ledger/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

type Json = Record<string, unknown>;

/** The OAuth error a call through openid-client ends in (a 401 carries it in its challenge). */
async function oauthError(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    const e = err as { error?: string; cause?: Array<{ parameters?: { error?: string } }> };
    return e.error ?? (Array.isArray(e.cause) ? e.cause[0]?.parameters?.error : undefined);
  }
  throw new Error('expected an OAuth error');
}

describe('the provider’s fetches of URLs member sites name (jwks_uri, sector_identifier_uri)', () => {
  // A server on this machine standing for what lies behind the card manager: it counts every connection made to it.
  let inside: Server;
  let port: number;
  let connections = 0;
  let key: CryptoKey;
  let jwk: JWK;

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'inside-1', alg: 'ES256', use: 'sig' };
    inside = createServer((req, res) => {
      if (req.url === '/moved') res.writeHead(302, { location: '/jwks' }).end();
      else if (req.url === '/jwks') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      else if (req.url === '/huge-jwks') {
        // Streamed without a content-length, so only counting the bytes read can stop it.
        res.writeHead(200, { 'content-type': 'application/json' });
        // A valid JWKS, its signing key and all, after 200 KB of white space: only its size is wrong.
        for (let i = 0; i < 200; i++) res.write(' '.repeat(1024));
        res.end(JSON.stringify({ keys: [jwk] }));
      }
      else res.writeHead(404).end();
    });
    inside.on('connection', () => void connections++);
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.1', resolve));
    port = (inside.address() as AddressInfo).port;
  });
  after(async () => {
    inside.closeAllConnections();
    await close(inside);
  });

  const asSite = async (ts: TestServer, site: TestSite) =>
    client.clientCredentialsGrant(await siteClient(ts, site, client.PrivateKeyJwt({ key, kid: 'inside-1' })), { resource: site.resource, scope: 'read' });

  describe('by default, as in production: only public addresses, judged after DNS', () => {
    let ts: TestServer;
    let token: string;
    let resource: string;
    const logged: Json[] = [];

    before(async () => {
      ts = await startCardManager({ registration: { enabled: true }, logLevel: 'warn' }, { logStream: { write: (l: string) => void logged.push(JSON.parse(l) as Json) } });
      expect(ts.config.oidc.allowPrivateFetch).to.equal(false);
      token = ts.config.secrets.registrationToken!;
      resource = `https://api-${randomBytes(4).toString('hex')}.example.test/`;
      await upsertResourceServer(ts.db, { identifier: resource, name: 'Fetch API', scope: 'read', accessTokenTtl: null });
    });
    after(() => ts.stop());

    const siteCount = async () => Number((await ts.db('member_sites').count({ n: '*' }).first())!.n);

    /** A self-registration (naming no resource server: only the operator grants one). */
    async function register(extra: Json) {
      const host = `fetch-${randomBytes(4).toString('hex')}.example.test`;
      const body = { client_name: 'Fetching shop', redirect_uris: [`https://${host}/callback`], scope: 'openid', ...extra };
      return fetch(`${ts.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    }

    it('refuses a registrant’s sector_identifier_uri at a loopback or link-local address without connecting to it: invalid_client_metadata, nothing stored', async () => {
      const before = await siteCount();
      const seen = connections;
      const uris = [
        `https://localhost:${port}/sector`, // a name: refused on what it resolves to
        `https://127.0.0.1:${port}/sector`,
        `https://[::ffff:127.0.0.1]:${port}/sector`,
        'https://169.254.169.254/latest/meta-data/', // cloud metadata
      ];
      for (const uri of uris) {
        const res = await register({ sector_identifier_uri: uri });
        expect(res.status, uri).to.equal(400);
        expect(((await res.json()) as Json).error, uri).to.equal('invalid_client_metadata');
      }
      expect(await siteCount()).to.equal(before);
      expect(connections, 'connections made to the private address').to.equal(seen);
    });

    it('refuses a self-registered site’s jwks_uri at a loopback address when it authenticates with private_key_jwt: invalid_client, no connection', async () => {
      const res = await register({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `http://localhost:${port}/jwks` });
      expect(res.status).to.equal(201);
      const clientId = String(((await res.json()) as Json).client_id);
      const seen = connections;
      const site: TestSite = { clientId, clientSecret: '', redirectUri: '', postLogoutUri: '', resource };
      expect(await oauthError(asSite(ts, site))).to.equal('invalid_client');
      expect(connections).to.equal(seen);
      expect((await findMemberSite(ts.db, clientId))!.jwksUri).to.equal(`http://localhost:${port}/jwks`);
    });

    it('refuses it just the same for a site the operator registered (the site, not the operator, decides where its name points), and says why in the log', async () => {
      const site = await registerTestSite(ts, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `http://127.0.0.1:${port}/moved` });
      const seen = connections;
      logged.length = 0;
      expect(await oauthError(asSite(ts, site))).to.equal('invalid_client');
      expect(connections).to.equal(seen);
      const warning = logged.find((l) => String(l.msg).includes('non-public address'));
      expect(warning, JSON.stringify(logged)).to.include({ origin: `http://127.0.0.1:${port}` });
    });

    it('never posts a Logout Token or an approval event to a site’s URI at a loopback address: each is given up at once, the reason recorded', async () => {
      // The site's endpoints on this machine, by name and by address: the senders share the guard the provider's fetches have.
      const site = await registerTestSite(ts, {
        redirectUris: [`http://localhost:${port}/cb`],
        postLogoutRedirectUris: [],
        backchannelLogoutUri: `http://localhost:${port}/logout`,
        approvalEventsUri: `http://localhost:${port}/events`,
      });
      const card = await cardWithLimit(ts, 100_000);
      await approveFor(ts, card, site, 1_000);
      await inTransaction(ts.db, (trx) => revokeOpenApprovalsForCard(trx, card.cardId, 'card reported lost'));
      await queueLogout(ts.db, { clientId: site.clientId, accountId: card.accountId, sid: null, reason: 'test' });
      // An address written out is refused as written.
      const literal = await registerTestSite(ts, { redirectUris: [`http://127.0.0.1:${port}/cb`], postLogoutRedirectUris: [], backchannelLogoutUri: `http://127.0.0.1:${port}/logout` });
      await queueLogout(ts.db, { clientId: literal.clientId, accountId: card.accountId, sid: null, reason: 'test' });
      const seen = connections;
      logged.length = 0;
      // A drain also tries what other test files left due in the run's database: this site's rows say what happened.
      expect((await sendDueApprovalEvents(ts.cm.approvalEvents)).failed).to.be.at.least(1);
      expect((await sendDueLogouts(ts.cm.logouts)).failed).to.be.at.least(1);
      expect(connections, 'connections made to the private address').to.equal(seen);
      // No later attempt could be let through: the refusal is on where the site's own name points (the operator may
      // send it again from the deliveries page once the site has moved it).
      for (const table of ['approval_events', 'backchannel_logouts'] as const) {
        const row = await ts.db(table).where({ client_id: site.clientId }).first('status', 'attempts', 'last_error');
        expect(row, table).to.include({ status: 'failed', attempts: 1 });
        expect(row.last_error, table).to.match(/not a public address/);
      }
      expect(await ts.db('backchannel_logouts').where({ client_id: literal.clientId }).first('status', 'attempts')).to.deep.equal({ status: 'failed', attempts: 1 });
      for (const what of ['approval event', 'back-channel logout']) {
        expect(logged.filter((l) => l.msg === `${what} given up` && l.clientId === site.clientId), what).to.have.length(1);
      }
      // This site's two posts (other files' due rows may be refused in the same drains, at their own addresses).
      expect(logged.filter((l) => String(l.msg).includes('non-public address') && l.origin === `http://localhost:${port}`)).to.have.length(2);
    });
  });

  describe('with oidc.allowPrivateFetch, for member sites on the operator’s own network', () => {
    let ts: TestServer;
    before(async () => {
      ts = await startCardManager({ oidc: { allowPrivateFetch: true } });
    });
    after(() => ts.stop());

    it('fetches a jwks_uri at a loopback address, following a redirect, and the site signs in with its key', async () => {
      const site = await registerTestSite(ts, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `http://localhost:${port}/moved` });
      const seen = connections;
      expect((await asSite(ts, site)).access_token).to.be.a('string');
      expect(connections).to.be.greaterThan(seen);
    });

    it(`stops reading a jwks_uri past ${FETCHED_BODY_LIMIT / 1024} KiB: invalid_client, and the server goes on`, async () => {
      const site = await registerTestSite(ts, { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: `http://localhost:${port}/huge-jwks` });
      expect(await oauthError(asSite(ts, site))).to.equal('invalid_client');
      expect((await fetch(`${ts.url}/healthz`)).status).to.equal(200);
    });
  });
});
