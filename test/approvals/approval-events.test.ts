import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { capture } from '../../src/approvals/capture.ts';
import { decideDispute } from '../../src/approvals/decide-dispute.ts';
import { expireHolds } from '../../src/approvals/expire.ts';
import { openDispute } from '../../src/approvals/open-dispute.ts';
import { revokeOpenApprovalsForCard } from '../../src/approvals/revoke-for-card.ts';
import type { Approval } from '../../src/db/approvals.ts';
import { findMemberSite } from '../../src/db/member-sites.ts';
import { inTransaction } from '../../src/db/tx.ts';
import { sendDueApprovalEvents } from '../../src/oidc/send-approval-events.ts';
import { close } from '../../src/server.ts';
import { runCli } from '../helpers/cli.ts';
import { registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { scrape, valueOf } from '../helpers/metrics.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { startSiteEndpoints, type Posted, type SiteEndpoints } from '../helpers/site-endpoints.ts';
import { approveFor, basicAuth, cardWithLimit, operator } from '../ledger/fixtures.ts';

type Json = Record<string, unknown>;
const NS = 'https://cybercard.dev/events/';

describe('approval events: member sites are pushed Security Event Tokens (RFC 8417, RFC 8935)', () => {
  // The member sites' server: every POST is recorded; each answers with the next answer queued for its path, else 202.
  let sites: SiteEndpoints;
  let origin: string;
  let ts: TestServer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const logLines: string[] = [];

  before(async () => {
    sites = await startSiteEndpoints({ status: 202 });
    origin = sites.origin;
    // The sites' server is on this machine: posts may go there only when private addresses are allowed.
    ts = await startCardManager({ oidc: { allowPrivateFetch: true }, logLevel: 'info' }, { logStream: { write: (l: string) => void logLines.push(l) } });
    jwks = createRemoteJWKSet(new URL(`${ts.url}/jwks`));
  });
  after(async () => {
    await ts.stop();
    await sites.stop();
  });

  const at = (path: string) => sites.at(path);
  const drain = () => sendDueApprovalEvents(ts.cm.approvalEvents);

  /** A member site on the sites' server whose approval_events_uri is /events/<tag> (none with `uri: false`). */
  async function eventSite(opts: { uri?: boolean } = {}): Promise<TestSite & { path: string }> {
    const tag = randomBytes(4).toString('hex');
    const path = `/events/${tag}`;
    const site = await registerTestSite(ts, {
      redirectUris: [`${origin}/callback/${tag}`],
      postLogoutRedirectUris: [],
      ...(opts.uri === false ? {} : { approvalEventsUri: `${origin}${path}` }),
    });
    return { ...site, path };
  }

  /** The SET of a POST, verified as a site must (RFC 8417 §2.3, RFC 8935 §2.1) against our JWKS: its one event. */
  async function verified(r: Posted, site: TestSite): Promise<{ claims: JWTPayload; event: string; payload: Json }> {
    expect(r.headers['content-type']).to.equal('application/secevent+jwt');
    expect(r.headers.accept).to.equal('application/json');
    const { payload: claims, protectedHeader } = await jwtVerify(r.body, jwks, { issuer: ts.url, audience: site.clientId, typ: 'secevent+jwt', maxTokenAge: 300 });
    expect(protectedHeader.kid).to.be.a('string');
    expect(claims.jti).to.be.a('string');
    expect(claims.toe).to.be.a('number');
    expect(claims).to.not.have.property('sub');
    expect(claims).to.not.have.property('exp');
    const events = claims.events as Record<string, Json>;
    expect(Object.keys(events)).to.have.length(1);
    const event = Object.keys(events)[0]!;
    return { claims, event, payload: events[event]! };
  }

  /** What the site's own GET /api/approvals/:no shows now. */
  async function shown(site: TestSite, approvalNo: string): Promise<Json> {
    const res = await fetch(`${ts.url}/api/approvals/${approvalNo}`, { headers: { authorization: basicAuth(site) } });
    expect(res.status).to.equal(200);
    return (await res.json()) as Json;
  }

  const holder = () => cardWithLimit(ts, 1_000_000);
  const reportLost = (card: TestCard) => operator(ts, 'POST', `/admin/api/cards/${card.cardId}/lost`, { reason: 'lost on the bus' });
  const queued = async (site: TestSite) => ts.db('approval_events').where({ client_id: site.clientId }).orderBy('id');

  describe('registration', () => {
    const siteApi = (body: Json, path = '/', method = 'POST') => operator(ts, method, `/admin/api/sites${path}`, body);

    it('takes approval_events_uri from the operator API, shows it, and clears it', async () => {
      const host = `shop-${randomBytes(4).toString('hex')}.example.test`;
      const res = await siteApi({ name: 'Events shop', redirect_uris: [`https://${host}/cb`], approval_events_uri: `https://${host}/events` });
      expect(res.status, JSON.stringify(res.json)).to.equal(201);
      expect(res.json).to.include({ approval_events_uri: `https://${host}/events` });
      const clientId = String(res.json.client_id);
      expect((await findMemberSite(ts.db, clientId))!.approvalEventsUri).to.equal(`https://${host}/events`);
      const cleared = await siteApi({ approval_events_uri: null }, `/${clientId}`, 'PATCH');
      expect(cleared.status).to.equal(200);
      expect(cleared.json.approval_events_uri).to.equal(null);
    });

    it('refuses an approval_events_uri that is not a URL, has a fragment or credentials, is javascript:, ftp: or on another origin, storing nothing', async () => {
      const count = async () => Number((await ts.db('member_sites').count({ n: '*' }).first())!.n);
      const before = await count();
      const host = `shop-${randomBytes(4).toString('hex')}.example.test`;
      for (const uri of ['not a url', `https://${host}/events#x`, `https://u:p@${host}/events`, 'javascript:alert(1)', `ftp://${host}/events`, 'https://elsewhere.example.test/events', 42]) {
        const res = await siteApi({ name: 'Bad events shop', redirect_uris: [`https://${host}/cb`], approval_events_uri: uri });
        expect(res.status, String(uri)).to.equal(400);
        expect((res.json as { fields?: Json }).fields, String(uri)).to.have.property('approval_events_uri');
      }
      expect(await count()).to.equal(before);
    });

    it('takes it on the command line (sites register|update) and refuses a bad one', async () => {
      const host = `cli-${randomBytes(4).toString('hex')}.example.test`;
      const reg = await runCli('sites', 'register', '--name', 'CLI shop', '--redirect-uri', `https://${host}/cb`, '--approval-events-uri', `https://${host}/events`);
      expect(reg.code, reg.stderr).to.equal(0);
      const clientId = /client_id:\s+(\S+)/.exec(reg.stdout)![1]!;
      expect((await findMemberSite(ts.db, clientId))!.approvalEventsUri).to.equal(`https://${host}/events`);
      const upd = await runCli('sites', 'update', '--client-id', clientId, '--approval-events-uri', `https://${host}/events2`);
      expect(upd.code, upd.stderr).to.equal(0);
      expect(JSON.parse(upd.stdout)).to.include({ approval_events_uri: `https://${host}/events2` });
      const bad = await runCli('sites', 'update', '--client-id', clientId, '--approval-events-uri', `https://other-${host}/events`);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.match(/--approval-events-uri: .*origin of the redirect URIs/i);
      expect((await findMemberSite(ts.db, clientId))!.approvalEventsUri).to.equal(`https://${host}/events2`);
    });

    it('takes it through RFC 7591 registration, refusing a bad one with invalid_client_metadata', async () => {
      const dcr = await startCardManager({ registration: { enabled: true } });
      try {
        const host = `dcr-${randomBytes(4).toString('hex')}.example.test`;
        const register = (meta: Json) =>
          fetch(`${dcr.url}/reg`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${dcr.config.secrets.registrationToken}` },
            body: JSON.stringify({ client_name: 'DCR shop', redirect_uris: [`https://${host}/cb`], scope: 'openid', ...meta }),
          });
        const sites = async () => Number((await dcr.db('member_sites').count({ n: '*' }).first())!.n);
        const before = await sites();
        // Not a string at all (a number, the URI in a list, an object, true): refused, never echoed back as if kept.
        for (const uri of ['not a url', 'https://elsewhere.example.test/events', 123, [`https://${host}/events`], { uri: `https://${host}/events` }, true]) {
          const res = await register({ approval_events_uri: uri });
          expect(res.status, JSON.stringify(uri)).to.equal(400);
          expect(((await res.json()) as Json).error, JSON.stringify(uri)).to.equal('invalid_client_metadata');
        }
        expect(await sites()).to.equal(before);
        const res = await register({ approval_events_uri: `https://${host}/events` });
        expect(res.status).to.equal(201);
        const created = (await res.json()) as Json;
        expect(created).to.include({ approval_events_uri: `https://${host}/events` });
        expect((await findMemberSite(dcr.db, String(created.client_id)))!.approvalEventsUri).to.equal(`https://${host}/events`);
      } finally {
        await dcr.stop();
      }
    });
  });

  it('a card reported lost: one approval-revoked event per open approval of the site, as its GET shows it; a site without a URI gets nothing', async () => {
    const site = await eventSite();
    const quiet = await eventSite({ uri: false });
    const card = await holder();
    const a1 = await approveFor(ts, card, site, 12_000, 'Film one');
    const a2 = await approveFor(ts, card, site, 3_000, 'Film two');
    const done = await approveFor(ts, card, site, 5_000, 'Film three');
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: done.approvalNo, amount: 5_000, actor: 'test' }));
    const other = await approveFor(ts, card, quiet, 7_000);
    expect((await reportLost(card)).status).to.equal(200);

    // The quiet site's approval is revoked all the same, and nothing is queued for it.
    expect((await ts.db('approvals').where({ id: other.id }).first()).status).to.equal('revoked');
    expect(await queued(quiet)).to.have.length(0);
    await drain();
    expect(at(quiet.path)).to.have.length(0);
    const posts = at(site.path);
    expect(posts).to.have.length(2);
    const events = await Promise.all(posts.map((p) => verified(p, site)));
    expect(events.map((e) => e.event)).to.deep.equal([`${NS}approval-revoked`, `${NS}approval-revoked`]);
    expect(events.map((e) => e.payload.approval_no).sort()).to.deep.equal([a1.approvalNo, a2.approvalNo].sort());
    const first = events.find((e) => e.payload.approval_no === a1.approvalNo)!;
    expect(first.payload).to.include({ status: 'revoked', amount: 12_000, currency: 'KRW', held_amount: 0, released_amount: 12_000, status_reason: 'card reported lost' });
    expect(first.payload).to.deep.equal(await shown(site, a1.approvalNo));
    // Nothing of the card or its holder.
    for (const e of events) expect(JSON.stringify(e.claims)).to.not.include(card.number).and.not.include(card.accountId).and.not.include(card.cardId);
    expect(new Set(events.map((e) => e.claims.jti)).size).to.equal(2);
    expect((await queued(site)).map((r) => r.status)).to.deep.equal(['sent', 'sent']);
  });

  it('a hold expired: approval-expired', async () => {
    const site = await eventSite();
    const card = await holder();
    const a = await approveFor(ts, card, site, 4_000);
    await ts.db('approvals').where({ id: a.id }).update({ hold_expires_at: ts.db.raw("now() - interval '1 minute'") });
    await expireHolds({ db: ts.db });
    await drain();
    const posts = at(site.path);
    expect(posts).to.have.length(1);
    const { event, payload } = await verified(posts[0]!, site);
    expect(event).to.equal(`${NS}approval-expired`);
    expect(payload).to.include({ approval_no: a.approvalNo, status: 'expired', amount: 4_000, currency: 'KRW', held_amount: 0 });
    expect(payload.dispute).to.equal(null);
  });

  it('a report opened and upheld: two events, in order, with the reason code and the chargeback, never the holder’s words', async () => {
    const site = await eventSite();
    const card = await holder();
    const a = await approveFor(ts, card, site, 9_000);
    await inTransaction(ts.db, (trx) => capture(trx, { approvalNo: a.approvalNo, amount: 9_000, actor: 'test' }));
    const words = 'I never watched this, my neighbour did';
    const dispute = await openDispute({ db: ts.db, windowDays: 60 }, { accountId: card.accountId, cardId: card.cardId, approvalNo: a.approvalNo, reason: 'not_mine', details: words, actor: `card:${card.cardId}` });
    await decideDispute({ db: ts.db }, { disputeId: dispute.id, decision: 'refund', note: 'Refunded in full', actor: 'operator:test' });
    await drain();
    const posts = at(site.path);
    expect(posts).to.have.length(2);
    const [opened, decided] = await Promise.all(posts.map((p) => verified(p, site)));
    expect(opened!.event).to.equal(`${NS}approval-dispute-opened`);
    expect(opened!.payload).to.include({ approval_no: a.approvalNo, status: 'captured', captured_amount: 9_000, refunded_amount: 0 });
    expect(opened!.payload.dispute).to.include({ status: 'open', reason: 'not_mine', refunded_amount: 0 });
    expect(decided!.event).to.equal(`${NS}approval-dispute-decided`);
    expect(decided!.payload).to.include({ approval_no: a.approvalNo, refunded_amount: 9_000 });
    expect(decided!.payload.dispute).to.include({ status: 'refunded', reason: 'not_mine', refunded_amount: 9_000 });
    expect(decided!.payload).to.deep.equal(await shown(site, a.approvalNo));
    for (const p of posts) expect(Buffer.from(p.body.split('.')[1]!, 'base64url').toString()).to.not.include('neighbour').and.not.include('Refunded in full');
  });

  it('an endpoint answering 500 and then 202: tried once more, the same event (jti), counted', async () => {
    const counted = async (outcome: string) => valueOf(await scrape(ts), 'cybercard_approval_events_total', { outcome });
    const [retryBefore, sentBefore] = [await counted('retry'), await counted('sent')];
    const site = await eventSite();
    sites.answers.set(site.path, [{ status: 500 }, { status: 202 }]);
    const card = await holder();
    await approveFor(ts, card, site, 1_000);
    expect((await reportLost(card)).status).to.equal(200);
    await drain();
    expect(at(site.path)).to.have.length(1);
    expect(await queued(site)).to.have.length(1);
    expect((await queued(site))[0]).to.include({ status: 'pending', attempts: 1, last_error: 'the site answered 500' });
    // Not due again until its backoff ends.
    await drain();
    expect(at(site.path)).to.have.length(1);
    await ts.db('approval_events').where({ client_id: site.clientId }).update({ next_attempt_at: ts.db.fn.now() });
    await drain();
    const posts = at(site.path);
    expect(posts).to.have.length(2);
    const [one, two] = await Promise.all(posts.map((p) => verified(p, site)));
    expect(two!.claims.jti).to.equal(one!.claims.jti);
    expect((await queued(site))[0]).to.include({ status: 'sent', attempts: 2 });
    expect(await counted('retry')).to.equal(retryBefore + 1);
    expect(await counted('sent')).to.be.at.least(sentBefore + 1);
  });

  it('an endpoint answering 400 with an RFC 8935 error: given up at once, its err code logged', async () => {
    const site = await eventSite();
    sites.answers.set(site.path, [{ status: 400, body: JSON.stringify({ err: 'invalid_request', description: 'no such approval here' }) }]);
    const card = await holder();
    await approveFor(ts, card, site, 1_000);
    expect((await reportLost(card)).status).to.equal(200);
    await drain();
    const [row] = await queued(site);
    expect(row).to.include({ status: 'failed', attempts: 1 });
    expect(row.last_error).to.equal('the site refused it: invalid_request');
    expect(logLines.some((l) => l.includes('approval event given up') && l.includes(site.clientId) && l.includes('invalid_request'))).to.equal(true);
    await ts.db('approval_events').where({ client_id: site.clientId }).update({ next_attempt_at: ts.db.fn.now() });
    await drain();
    expect(at(site.path)).to.have.length(1);
  });

  it('a 400 invalid_key is tried again: the site may hold keys from before a rotation and fetch the new one', async () => {
    const site = await eventSite();
    sites.answers.set(site.path, [{ status: 400, body: JSON.stringify({ err: 'invalid_key', description: 'unknown kid' }) }]);
    const card = await holder();
    await approveFor(ts, card, site, 1_000);
    expect((await reportLost(card)).status).to.equal(200);
    await drain();
    const [row] = await queued(site);
    expect(row).to.include({ status: 'pending', attempts: 1 });
    expect(row.last_error).to.equal('the site refused its key: invalid_key (tried again)');
    await ts.db('approval_events').where({ client_id: site.clientId }).update({ next_attempt_at: ts.db.fn.now() });
    await drain();
    expect((await queued(site))[0]).to.include({ status: 'sent', attempts: 2 });
  });

  it('a 400 without an RFC 8935 error body is tried again', async () => {
    const site = await eventSite();
    sites.answers.set(site.path, [{ status: 400, body: 'nope' }]);
    const card = await holder();
    await approveFor(ts, card, site, 1_000);
    expect((await reportLost(card)).status).to.equal(200);
    await drain();
    expect((await queued(site))[0]).to.include({ status: 'pending', attempts: 1, last_error: 'the site answered 400 without an RFC 8935 error' });
  });

  it('an endpoint that never answers, or answers 400 and trickles its body forever: the attempt ends at timeoutMs, tried again later', async () => {
    // A member site's own server, holding every answer open: one sends no status line, the other a byte a tenth of a second.
    const slow = createServer((req, res) => {
      req.resume();
      if (req.url === '/events/silent') return;
      res.writeHead(400, { 'content-type': 'application/json' }).write('{"err":');
      const drip = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowOrigin = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    try {
      const card = await holder();
      const slowSites: TestSite[] = [];
      for (const path of ['/events/silent', '/events/trickle']) {
        const site = await registerTestSite(ts, { redirectUris: [`${slowOrigin}/callback`], postLogoutRedirectUris: [], approvalEventsUri: `${slowOrigin}${path}` });
        await approveFor(ts, card, site, 1_000);
        slowSites.push(site);
      }
      expect((await reportLost(card)).status).to.equal(200);
      // The silent site never answers: the drain ends only because each post gives up at timeoutMs.
      await sendDueApprovalEvents({ ...ts.cm.approvalEvents, timeoutMs: 300 });
      for (const site of slowSites) expect((await queued(site))[0]).to.include({ status: 'pending', attempts: 1 });
      // Nothing is left open at the site: each connection was closed when its attempt ended.
      await new Promise((r) => setTimeout(r, 100));
      expect(await new Promise<number>((resolve) => slow.getConnections((_e, n) => resolve(n)))).to.equal(0);
    } finally {
      slow.closeAllConnections();
      await close(slow);
    }
  });

  it('two senders at once never deliver an event twice', async () => {
    const site = await eventSite();
    const card = await holder();
    for (let i = 0; i < 6; i++) await approveFor(ts, card, site, 1_000 + i);
    expect((await reportLost(card)).status).to.equal(200);
    sites.delayMs = 50;
    try {
      const results = await Promise.all([drain(), drain(), drain()]);
      expect(results.reduce((n, r) => n + r.sent, 0)).to.be.at.least(6);
    } finally {
      sites.delayMs = 0;
    }
    const posts = at(site.path);
    expect(posts).to.have.length(6);
    const jtis = (await Promise.all(posts.map((p) => verified(p, site)))).map((e) => e.claims.jti);
    expect(new Set(jtis).size).to.equal(6);
    expect((await queued(site)).every((r) => r.status === 'sent' && r.attempts === 1)).to.equal(true);
  });

  it('a change that rolls back queues nothing', async () => {
    const site = await eventSite();
    const card = await holder();
    const a: Approval = await approveFor(ts, card, site, 2_000);
    const failed = await inTransaction(ts.db, async (trx) => {
      expect(await revokeOpenApprovalsForCard(trx, card.cardId, 'card reported lost')).to.have.length(1);
      throw new Error('something later in the block failed');
    }).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(Error);
    expect(await queued(site)).to.have.length(0);
    expect((await ts.db('approvals').where({ id: a.id }).first()).status).to.equal('approved');
    await drain();
    expect(at(site.path)).to.have.length(0);
  });

  it('a site that took its URI away meanwhile: the event is given up, not posted', async () => {
    const site = await eventSite();
    const card = await holder();
    await approveFor(ts, card, site, 1_000);
    expect((await reportLost(card)).status).to.equal(200);
    expect((await operator(ts, 'PATCH', `/admin/api/sites/${site.clientId}`, { approval_events_uri: null })).status).to.equal(200);
    await drain();
    expect(at(site.path)).to.have.length(0);
    expect((await queued(site))[0]).to.include({ status: 'failed' });
  });
  describe('with a sender running in another instance, as in production (approvalEvents.senderIntervalSeconds)', () => {
    let other: TestServer;
    before(async () => {
      // A pass an hour: within the test, only hearing of the queued event makes it drain.
      other = await startCardManager({ oidc: { allowPrivateFetch: true }, approvalEvents: { senderIntervalSeconds: 3600 } });
    });
    after(() => other.stop());

    it('posts an event as soon as the change that queued it commits, in whichever instance made it', async () => {
      const site = await eventSite();
      const card = await holder();
      const a = await approveFor(ts, card, site, 2_000);
      // Reported lost through this instance, whose sender is off: the other one hears of the event through the database.
      expect((await reportLost(card)).status).to.equal(200);
      for (let i = 0; i < 100 && !at(site.path).length; i++) await new Promise((r) => setTimeout(r, 20));
      const posts = at(site.path);
      expect(posts, 'posted within 2 s of the report').to.have.length(1);
      const { payload } = await jwtVerify(posts[0]!.body, createRemoteJWKSet(new URL(`${other.url}/jwks`)), { issuer: other.url, audience: site.clientId });
      expect(Object.values(payload.events as Record<string, Json>)[0]).to.include({ approval_no: a.approvalNo, status: 'revoked' });
    });
  });

  describe('a site that does not answer', () => {
    let slowTs: TestServer;
    let hold: { release: () => void; posted: number };
    let slow: import('node:http').Server;
    let slowOrigin: string;

    before(async () => {
      const { createServer } = await import('node:http');
      hold = { release: () => {}, posted: 0 };
      const held = new Promise<void>((resolve) => (hold.release = resolve));
      // Takes each post and answers only when the test lets it: a site whose server hangs.
      slow = createServer((req, res) => {
        hold.posted++;
        req.resume();
        void held.then(() => res.writeHead(202).end());
      });
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
      slowOrigin = `http://127.0.0.1:${(slow.address() as import('node:net').AddressInfo).port}`;
      // A long timeout: within it, only posting side by side gets the other site its event.
      slowTs = await startCardManager({ oidc: { allowPrivateFetch: true }, approvalEvents: { senderIntervalSeconds: 0, batchSize: 100, maxAttempts: 3, timeoutMs: 30_000 } });
    });
    after(async () => {
      hold.release();
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
      await slowTs?.stop();
    });

    it("holds up no other site's events while it keeps a post waiting", async () => {
      const tag = randomBytes(4).toString('hex');
      const hanging = await registerTestSite(slowTs, { redirectUris: [`${slowOrigin}/cb/${tag}`], postLogoutRedirectUris: [], approvalEventsUri: `${slowOrigin}/events` });
      const quick = await registerTestSite(slowTs, { redirectUris: [`${origin}/cb/${tag}`], postLogoutRedirectUris: [], approvalEventsUri: `${origin}/events/quick-${tag}` });
      const card = await cardWithLimit(slowTs, 1_000_000);
      // The hanging site's event is queued first, so a sender taking one post at a time would wait on it.
      await approveFor(slowTs, card, hanging, 1_000);
      await approveFor(slowTs, card, quick, 2_000);
      expect((await operator(slowTs, 'POST', `/admin/api/cards/${card.cardId}/lost`, { reason: 'lost' })).status).to.equal(200);
      const draining = sendDueApprovalEvents(slowTs.cm.approvalEvents);
      for (let i = 0; i < 100 && at(`/events/quick-${tag}`).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(at(`/events/quick-${tag}`), 'the other site got its event while the post to the hanging one waited').to.have.length(1);
      expect(hold.posted).to.equal(1);
      hold.release();
      await draining;
      for (const site of [hanging, quick]) expect(await slowTs.db('approval_events').where({ client_id: site.clientId }).first('status', 'attempts')).to.deep.equal({ status: 'sent', attempts: 1 });
    });
  });
});
