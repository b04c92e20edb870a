import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { sendDueLogouts } from '../../src/oidc/send-logout-tokens.ts';
import { Agent, location, runLogin } from '../helpers/agent.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { startDemoSite, type RunningDemo } from './demo-server.ts';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('demo member site: back-channel logout (POST /backchannel-logout)', () => {
  let ts: TestServer;
  let demo: RunningDemo;

  before(async () => {
    // The demo listens on this machine: the card manager may post there only when private addresses are allowed.
    ts = await startCardManager({ oidc: { allowPrivateFetch: true } });
    demo = await startDemoSite(ts);
  });
  after(async () => {
    await demo?.stop();
    await ts?.stop();
  });

  /** A browser signed in at the demo with `card`, and the ID token claims the demo shows it. */
  async function signedInAtDemo(card: TestCard): Promise<{ agent: Agent; claims: { sub: string; sid: string } }> {
    const agent = new Agent(ts.url);
    const result = await runLogin(agent, location(await agent.get(`${demo.url}/login`), demo.url), card);
    if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
    expect(location(await agent.get(result.url), demo.url).pathname).to.equal('/me');
    const html = await (await agent.get(`${demo.url}/me`)).text();
    const json = /<pre id="claims">([\s\S]*?)<\/pre>/.exec(html)![1]!.replace(/&#34;/g, '"').replace(/&amp;/g, '&');
    return { agent, claims: JSON.parse(json) as { sub: string; sid: string } };
  }

  const signedIn = async (agent: Agent) => (await agent.get(`${demo.url}/me`)).status === 200;

  const post = (body: Record<string, string>) =>
    fetch(`${demo.url}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });

  /** A Logout Token signed with the card manager's own current key (or `key`), `claims` over a valid one's. */
  async function token(claims: JWTPayload & { sub?: string }, opts: { typ?: string; key?: CryptoKey } = {}): Promise<string> {
    const kid = ts.cm.keys.signingKid!;
    const key = opts.key ?? ((await importJWK(ts.cm.keys.jwks.keys.find((k) => k.kid === kid)!, 'ES256')) as CryptoKey);
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: ts.url, aud: demo.clientId, iat: now, exp: now + 120, jti: randomUUID(), events: { [EVENT]: {} }, ...claims };
    return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: opts.typ ?? 'logout+jwt' }).sign(key);
  }

  it('ends the holder’s sessions at the demo when the operator blocks the card, and no one else’s', async () => {
    const card = await issueTestCard(ts);
    const first = await signedInAtDemo(card);
    const second = await signedInAtDemo(card);
    const other = await signedInAtDemo(await issueTestCard(ts));
    const res = await fetch(`${ts.url}/admin/api/cards/${card.cardId}/block`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ts.config.secrets.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'fraud suspected' }),
    });
    expect(res.status).to.equal(200);
    expect(await signedIn(first.agent)).to.equal(true);
    // The demo asked for sids: one token for each of the holder's two sessions there.
    await sendDueLogouts(ts.cm.logouts);
    expect(await ts.db('backchannel_logouts').where({ client_id: demo.clientId }).select('status', 'sid')).to.have.deep.members([
      { status: 'sent', sid: first.claims.sid },
      { status: 'sent', sid: second.claims.sid },
    ]);
    expect(await signedIn(first.agent)).to.equal(false);
    expect(await signedIn(second.agent)).to.equal(false);
    expect(await signedIn(other.agent)).to.equal(true);
  });

  it('refuses a missing, malformed, unsigned, forged, expired, misaddressed or mistyped token with 400, ending nothing', async () => {
    const { agent, claims } = await signedInAtDemo(await issueTestCard(ts));
    const now = Math.floor(Date.now() / 1000);
    const { privateKey: stranger } = await generateKeyPair('ES256');
    const bad: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['not a JWT', { logout_token: 'not.a.jwt' }],
      ['unsigned', { logout_token: new UnsecuredJWT({ iss: ts.url, aud: demo.clientId, iat: now, exp: now + 120, jti: randomUUID(), events: { [EVENT]: {} }, sub: claims.sub }).encode() }],
      ['forged', { logout_token: await token({ sub: claims.sub }, { key: stranger }) }],
      ['expired', { logout_token: await token({ sub: claims.sub, iat: now - 600, exp: now - 300 }) }],
      ['another site’s', { logout_token: await token({ sub: claims.sub, aud: 'another-site' }) }],
      ['another issuer’s', { logout_token: await token({ sub: claims.sub, iss: 'https://elsewhere.example.test' }) }],
      ['an ID token', { logout_token: await token({ sub: claims.sub }, { typ: 'JWT' }) }],
      ['with a nonce', { logout_token: await token({ sub: claims.sub, nonce: 'n' }) }],
      ['without the event', { logout_token: await token({ sub: claims.sub, events: { 'urn:other': {} } }) }],
      ['naming no one', { logout_token: await token({}) }],
    ];
    for (const [what, body] of bad) {
      const res = await post(body);
      expect(res.status, what).to.equal(400);
      expect(((await res.json()) as { error?: string }).error, what).to.equal('invalid_request');
      expect(await signedIn(agent), what).to.equal(true);
    }
    // Not a form, or a form too large to be one: refused before any token is read.
    const json = await fetch(`${demo.url}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ logout_token: 'x' }) });
    expect(json.status).to.equal(400);
    const huge = await post({ logout_token: 'x'.repeat(64 * 1024) });
    expect(huge.status).to.equal(413);
    expect(await signedIn(agent)).to.equal(true);
    const good = await token({ sub: claims.sub, sid: claims.sid });
    expect((await post({ logout_token: good })).status).to.equal(200);
    expect(await signedIn(agent)).to.equal(false);
    // The same token again ends nothing more: refused.
    expect((await post({ logout_token: good })).status).to.equal(400);
  });

  it('ends only the session a token’s sid names when it has one', async () => {
    const card = await issueTestCard(ts);
    const one = await signedInAtDemo(card);
    const two = await signedInAtDemo(card);
    expect(one.claims.sid).to.not.equal(two.claims.sid);
    expect((await post({ logout_token: await token({ sub: one.claims.sub, sid: one.claims.sid }) })).status).to.equal(200);
    expect(await signedIn(one.agent)).to.equal(false);
    expect(await signedIn(two.agent)).to.equal(true);
  });
});
