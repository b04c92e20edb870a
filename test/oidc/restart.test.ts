import { expect } from 'chai';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { keepRetiredSeconds, rotateSigningKey } from '../../src/oidc/keys.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

describe('restart and key rotation', () => {
  const servers: TestServer[] = [];
  after(() => Promise.all(servers.map((s) => s.stop().catch(() => {}))));

  async function start() {
    const ts = await startCardManager();
    servers.push(ts);
    return ts;
  }

  it('keeps keys, member sites and sessions across a restart: an old token still verifies', async () => {
    const first = await start();
    const site = await registerTestSite(first);
    const card = await issueTestCard(first);
    const config = await siteClient(first, site);
    const req = await authRequest(config, site, { resource: site.resource });
    const agent = new Agent(first.url);
    const result = await runLogin(agent, req.url, card);
    if (result.kind !== 'redirect') throw new Error('login failed');
    const tokens = await client.authorizationCodeGrant(config, result.url, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
    });
    await first.stop();
    servers.pop();

    // A new process on the same database (another port, so another issuer URL: verify against the old one).
    const second = await start();
    const jwksBody = await (await fetch(`${second.url}/jwks`)).json();
    const { createLocalJWKSet } = await import('jose');
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwksBody as never), {
      issuer: first.url,
      audience: site.resource,
      typ: 'at+jwt',
    });
    expect(payload.client_id).to.equal(site.clientId);

    // The member site and the card still work, and the session cookie from before is still a session.
    const config2 = await siteClient(second, site);
    const req2 = await authRequest(config2, site, { prompt: 'none' });
    req2.url.searchParams.delete('prompt');
    req2.url.searchParams.set('prompt', 'none');
    const agent2 = new Agent(second.url);
    for (const [k, v] of agent.cookies) agent2.cookies.set(k, v);
    const silent = await runLogin(agent2, req2.url, { number: '', password: '' });
    expect(silent.kind).to.equal('redirect');
    if (silent.kind === 'redirect') expect(silent.url.searchParams.get('code')).to.be.a('string');
  });

  it('signs with a rotated key after restart while the old key stays published', async () => {
    const before = await start();
    const site = await registerTestSite(before);
    const card = await issueTestCard(before);
    const oldJwks = (await (await fetch(`${before.url}/jwks`)).json()) as { keys: { kid: string }[] };
    const oldKid = oldJwks.keys[0]!.kid;

    const config = await siteClient(before, site);
    const req = await authRequest(config, site, { resource: site.resource });
    const r = await runLogin(new Agent(before.url), req.url, card);
    if (r.kind !== 'redirect') throw new Error('login failed');
    const oldToken = (
      await client.authorizationCodeGrant(config, r.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce })
    ).access_token;
    expect(decodeProtectedHeader(oldToken).kid).to.equal(oldKid);

    const { kid: newKid } = await rotateSigningKey(before.db, 0);
    await before.stop();
    servers.pop();
    const after = await start();
    const jwks = (await (await fetch(`${after.url}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).to.include.members([newKid, oldKid]);

    const config2 = await siteClient(after, site);
    const req2 = await authRequest(config2, site, { resource: site.resource });
    const r2 = await runLogin(new Agent(after.url), req2.url, card);
    if (r2.kind !== 'redirect') throw new Error('login failed');
    const newToken = (
      await client.authorizationCodeGrant(config2, r2.url, { pkceCodeVerifier: req2.verifier, expectedState: req2.state, expectedNonce: req2.nonce })
    ).access_token;
    expect(decodeProtectedHeader(newToken).kid).to.equal(newKid);
    const remote = createRemoteJWKSet(new URL(`${after.url}/jwks`));
    await jwtVerify(newToken, remote, { issuer: after.url, audience: site.resource });
    await jwtVerify(oldToken, remote, { issuer: before.url, audience: site.resource });
  });

  it('stops publishing a rotated-out key once every token it signed has expired, and not a moment before', async () => {
    const kids = async (ts: TestServer) => ((await (await fetch(`${ts.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const first = await start();
    const oldKid = (await kids(first))[0]!;
    const { kid: newKid } = await rotateSigningKey(first.db, 0);
    // The longest a token it signed may live (access or ID token), with the margin keys.ts gives it.
    const keep = keepRetiredSeconds(first.config.oidc.ttl);
    const retiredAgo = (seconds: number) =>
      first.db('signing_keys').where({ kid: oldKid }).update({ retired_at: first.db.raw('now() - make_interval(secs => ?)', [seconds]) });

    await retiredAgo(keep - 60);
    const during = await start();
    expect(await kids(during)).to.include.members([newKid, oldKid]);

    await retiredAgo(keep + 1);
    const after = await start();
    expect(await kids(after)).to.include(newKid).and.not.include(oldKid);
    expect(await after.db('signing_keys').where({ kid: oldKid }).first(), 'deleted').to.equal(undefined);
  });
});
