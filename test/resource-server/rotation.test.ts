import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type * as client from 'openid-client';
import { createResourceServer, createTokenVerifier, TokenError } from 'cybercard/resource-server';
import { rotateSigningKey } from '../../src/oidc/keys.ts';
import { issueTestCard, registerTestSite, siteClient, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { loginToken } from './tokens.ts';

describe('cybercard/resource-server: signing-key rotation', () => {
  let ts: TestServer;
  let site: TestSite;
  let cfg: client.Configuration;
  let card: TestCard;
  let jwksFetches = 0;
  const countJwks = (req: { url?: string }) => {
    if (req.url === '/jwks') jwksFetches++;
  };

  before(async () => {
    ts = await startCardManager();
    site = await registerTestSite(ts);
    cfg = await siteClient(ts, site);
    card = await issueTestCard(ts);
    ts.server.on('request', countJwks);
  });
  after(async () => {
    await ts.stop();
  });

  /** `npm run cli -- keys rotate --now`; the card manager reads its keys again, as it does every keys.refreshSeconds (no restart). */
  async function rotate(): Promise<void> {
    await rotateSigningKey(ts.db, 0);
    await ts.cm.keys.refresh();
  }

  it('keeps accepting tokens signed by the old key until they expire, and picks up the new key without a restart', async () => {
    // jwksCooldownSeconds 0: the new key's first token may come right after the first fetch in a test.
    const rs = createResourceServer({ issuer: ts.url, audience: site.resource, jwksCooldownSeconds: 0 });
    const oldToken = await loginToken(ts, cfg, site, card);
    await rs.verify(oldToken);
    expect(jwksFetches).to.equal(1);

    await rotate();
    const newToken = await loginToken(ts, cfg, site, card);
    expect(decodeProtectedHeader(newToken).kid).to.not.equal(decodeProtectedHeader(oldToken).kid);

    // The same resource-server instance (no restart) verifies the new key's token: one JWKS fetch for the new kid.
    expect((await rs.verify(newToken)).client_id).to.equal(site.clientId);
    expect(jwksFetches).to.equal(2);
    for (let i = 0; i < 10; i++) {
      await rs.verify(newToken);
      await rs.verify(oldToken);
    }
    // Fetched once for the new kid, not per request; the old key is still published.
    expect(jwksFetches).to.equal(2);

    // …until the old token expires.
    const exp = decodeJwt(oldToken).exp!;
    const later = createTokenVerifier({ issuer: ts.url, audience: site.resource, now: () => new Date((exp + 6) * 1000) });
    const err = await later(oldToken).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TokenError);
    expect((err as TokenError).message).to.match(/expired/);
  });
});
