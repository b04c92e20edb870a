import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { reportLost } from '../../src/cards/report-lost.ts';
import { createSecurityEventVerifier, SetRefused } from '../../src/demo-site/security-event.ts';
import { sendDueApprovalEvents } from '../../src/oidc/send-approval-events.ts';
import { close } from '../../src/server.ts';
import { Agent, location, runLogin } from '../helpers/agent.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { startDemoSite, type RunningDemo } from './demo-server.ts';

const REVOKED = 'https://cybercard.dev/events/approval-revoked';
const NO_LONGER_COUNTS =
  'This purchase no longer counts: it was cancelled (a card reported lost or blocked cancels its purchases). Nothing more is charged; buy it again to see it.';

describe('demo member site: approval events (POST /approval-events, RFC 8935)', () => {
  let ts: TestServer;
  let demo: RunningDemo;

  before(async () => {
    // The demo listens on this machine: the card manager may post there only when private addresses are allowed.
    ts = await startCardManager({ oidc: { allowPrivateFetch: true } });
    // A status check cached for an hour: only the pushed event can stop a revoked purchase in this test's time.
    demo = await startDemoSite(ts, { strictCacheSeconds: 3600 });
  });
  after(async () => {
    await demo?.stop();
    await ts?.stop();
  });

  /** A browser that bought the album at the demo with `card` and sees it. */
  async function boughtAlbum(card: TestCard): Promise<Agent> {
    const agent = new Agent(ts.url);
    const result = await runLogin(agent, location(await agent.get(`${demo.url}/items/album/buy`), demo.url), card);
    if (result.kind !== 'redirect') throw new Error(`purchase ended on a ${result.status} page`);
    expect(location(await agent.get(result.url), demo.url).pathname).to.equal('/items/album');
    expect(await (await agent.get(`${demo.url}/items/album`)).text()).to.include('Twelve tracks');
    return agent;
  }

  const post = (body: string, contentType = 'application/secevent+jwt') =>
    fetch(`${demo.url}/approval-events`, { method: 'POST', headers: { 'content-type': contentType }, body });

  /** A SET signed with the card manager's own current key (or `key`), `claims` over a valid one's. */
  async function token(claims: JWTPayload, opts: { typ?: string; key?: CryptoKey } = {}): Promise<string> {
    const kid = ts.cm.keys.signingKid!;
    const key = opts.key ?? ((await importJWK(ts.cm.keys.jwks.keys.find((k) => k.kid === kid)!, 'ES256')) as CryptoKey);
    const payload = { iss: ts.url, aud: demo.clientId, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), events: { [REVOKED]: { approval_no: '1234-5678', status: 'revoked' } }, ...claims };
    return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: opts.typ ?? 'secevent+jwt' }).sign(key);
  }

  it('takes the card manager’s approval-revoked event (202) and stops the purchase at once, though its status check is cached', async () => {
    const card = await issueTestCard(ts);
    await ts.db('accounts').where({ id: card.accountId }).update({ credit_limit: 100_000 });
    const agent = await boughtAlbum(card);
    await reportLost(ts.db, { cardId: card.cardId, actor: 'test', reason: 'lost in the test', proof: 'operator' });
    // Before the event arrives the cached status still lets the item through: the event is what stops it.
    expect(await (await agent.get(`${demo.url}/items/album`)).text()).to.include('Twelve tracks');
    await sendDueApprovalEvents(ts.cm.approvalEvents);
    const [row] = await ts.db('approval_events').where({ client_id: demo.clientId });
    expect(row).to.include({ status: 'sent', attempts: 1, event: REVOKED });
    const res = await agent.get(`${demo.url}/items/album`);
    expect(res.status).to.equal(403);
    const html = (await res.text()).replace(/&#39;/g, "'");
    expect(html).to.include(NO_LONGER_COUNTS);
    expect(html).to.not.include('Twelve tracks');
  });

  it('answers a token it cannot take with 400 and an RFC 8935 error, and a repeat with 202', async () => {
    const good = await token({});
    expect((await post(good)).status).to.equal(202);
    expect((await post(good)).status, 'a repeat').to.equal(202);
    const { privateKey } = await generateKeyPair('ES256');
    const cases: Array<[string, Promise<string> | string, string?]> = [
      ['invalid_request', 'not a token'],
      ['invalid_request', good, 'application/x-www-form-urlencoded'],
      ['invalid_key', token({}, { key: privateKey as CryptoKey })],
      ['invalid_issuer', token({ iss: 'https://elsewhere.example.test' })],
      ['invalid_audience', token({ aud: 'another-site' })],
      ['invalid_request', token({}, { typ: 'logout+jwt' })],
      ['invalid_request', token({ events: { 'https://example.test/other-event': {} } })],
      ['invalid_request', token({ events: { [REVOKED]: {} } })],
      ['invalid_request', 'x'.repeat(20_000)],
    ];
    for (const [err, body, contentType] of cases) {
      const res = await post(await body, contentType);
      expect(res.status, err).to.equal(400);
      expect(((await res.json()) as { err: string }).err).to.equal(err);
    }
  });

  it('cannot fetch the card manager’s keys: not a refusal (which the card manager would give up on), so the event is tried again', async () => {
    // Nothing listens where the keys are said to be: the verifier's own trouble, not the token's.
    const nowhere = createServer();
    await new Promise<void>((resolve) => nowhere.listen(0, '127.0.0.1', resolve));
    const jwksUri = new URL(`http://127.0.0.1:${(nowhere.address() as AddressInfo).port}/jwks`);
    await close(nowhere);
    const verifier = createSecurityEventVerifier({ issuer: ts.url, clientId: demo.clientId, jwksUri: async () => jwksUri });
    const err = await verifier.verify(await token({})).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
    expect(err, 'a 400 with an RFC 8935 error would end the event for good').to.not.be.instanceOf(SetRefused);
  });
});
