import { exportSPKI, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { loadKeySchedule } from '../../src/oidc/keys.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, payRequest, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';

/** A real access token: the member site logs the card in through the hosted pages (openid-client). */
export async function loginToken(ts: TestServer, cfg: client.Configuration, site: TestSite, card: TestCard): Promise<string> {
  const req = await authRequest(cfg, site, { resource: site.resource });
  const result = await runLogin(new Agent(ts.url), req.url, card);
  if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
  const tokens = await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
  return tokens.access_token;
}

/** A real payment token: PAR with authorization_details, login, approve, code exchange. */
export async function paymentToken(
  ts: TestServer,
  cfg: client.Configuration,
  site: TestSite,
  card: TestCard,
  detail: Record<string, unknown>,
): Promise<string> {
  const { url, verifier, state } = await payRequest(cfg, site, [{ type: 'payment', currency: 'KRW', description: 'Test item', ...detail }]);
  const result = await runLogin(new Agent(ts.url), url, card);
  if (result.kind !== 'redirect') throw new Error(`payment ended on a ${result.status} page`);
  const tokens = await client.authorizationCodeGrant(cfg, result.url, { pkceCodeVerifier: verifier, expectedState: state });
  return tokens.access_token;
}

/** The card manager's current signing key (private), as stored: for minting tokens the kit must refuse. */
export async function issuerKey(ts: TestServer): Promise<{ kid: string; key: CryptoKey; publicPem: string; publicJwk: Record<string, unknown> }> {
  const jwk = (await loadKeySchedule(ts.db, 3600)).jwks.keys[0]!;
  const key = (await importJWK(jwk, 'ES256')) as CryptoKey;
  const { d: _d, ...publicJwk } = jwk;
  const publicKey = (await importJWK(publicJwk, 'ES256')) as CryptoKey;
  return { kid: String(jwk.kid), key, publicPem: await exportSPKI(publicKey), publicJwk };
}

/** Claims shaped like a card-manager access token, valid now. */
export function claimsFor(ts: TestServer, site: TestSite, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ts.url, aud: site.resource, sub: 'pairwise-sub', client_id: site.clientId, iat: now, exp: now + 300, jti: `jti-${now}-${Math.random()}`, ...extra };
}

export async function sign(payload: JWTPayload, key: CryptoKey | Uint8Array, header: { alg: string; kid?: string; typ?: string }): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ typ: 'at+jwt', ...header }).sign(key);
}

export async function otherKey(): Promise<CryptoKey> {
  return (await generateKeyPair('ES256')).privateKey;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An unsigned token (alg none), which jose itself will never produce. */
export function unsigned(payload: JWTPayload, kid: string): string {
  return `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(payload)}.`;
}
