import * as client from 'openid-client';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { leanFetch } from './lean-fetch.ts';

/**
 * The member-site side of the benchmarks: one site (with its resource server), one card, and the
 * request the demo site makes (openid profile offline_access, prompt=consent, resource, PKCE).
 */

/** Plain data, so it can be handed to the load-generator thread. */
export interface SiteInfo {
  url: string;
  site: TestSite;
  card: TestCard;
}

export interface BenchSite extends SiteInfo {
  config: client.Configuration;
}

/** Registers a member site and issues a card on the card manager (needs its database). */
export async function setUpSite(ts: TestServer): Promise<SiteInfo> {
  return { url: ts.url, site: await registerTestSite(ts), card: await issueTestCard(ts) };
}

/** The member site's openid-client configuration, from discovery (plain http: the server is local). */
export async function connectSite(info: SiteInfo): Promise<BenchSite> {
  const config = await client.discovery(new URL(info.url), info.site.clientId, undefined, client.ClientSecretBasic(info.site.clientSecret), {
    execute: [client.allowInsecureRequests],
    // Discovery and every later request of this configuration (PAR) go through it.
    [client.customFetch]: leanFetch,
  });
  return { ...info, config };
}

export interface IssuedCode {
  code: string;
  verifier: string;
}

/**
 * Walks one authorization request through the hosted pages in `agent` (the login form if it has
 * no session, then consent) and returns the code the member site receives.
 */
export async function codeThroughBrowser(b: BenchSite, agent: Agent): Promise<IssuedCode> {
  const req = await authRequest(b.config, b.site, { resource: b.site.resource });
  const result = await runLogin(agent, req.url, b.card);
  if (result.kind !== 'redirect') throw new Error(`login ended on a ${result.status} page`);
  const code = result.url.searchParams.get('code');
  if (!code || result.url.searchParams.get('state') !== req.state) {
    throw new Error(`no code in the redirect: ${result.url.searchParams.get('error') ?? result.url.search}`);
  }
  return { code, verifier: req.verifier };
}

/**
 * A returning holder's plain login inside the SSO session: no prompt and no offline_access, so once
 * the grant exists (`agent`'s first call gives consent) /auth answers with the code at once. Returns
 * the code the member site receives.
 */
export async function codeInSession(b: BenchSite, agent: Agent): Promise<IssuedCode> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(b.config, {
    redirect_uri: b.site.redirectUri,
    scope: 'openid profile',
    resource: b.site.resource,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const result = await runLogin(agent, url, b.card);
  if (result.kind !== 'redirect') throw new Error(`SSO login ended on a ${result.status} page`);
  const code = result.url.searchParams.get('code');
  if (!code || result.url.searchParams.get('state') !== state) throw new Error(`no code: ${result.url.search}`);
  return { code, verifier };
}

/** RFC 6749 §2.3.1: form-encoded id and secret, joined by a colon, base64. */
export function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

export interface TokenResponse {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  token_type: string;
}

/** POST /token with a grant's form fields; anything but a 200 with an access token throws. */
export async function postToken(url: string, authorization: string, form: Record<string, string>): Promise<TokenResponse> {
  const res = await leanFetch(`${url}/token`, {
    method: 'POST',
    redirect: 'manual',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json()) as Partial<TokenResponse> & { error?: string; error_description?: string };
  if (res.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`token endpoint answered ${res.status}: ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  }
  return body as TokenResponse;
}

/** The member site's code exchange: client_secret_basic, redirect_uri and the PKCE verifier. */
export function exchangeCode(b: SiteInfo, issued: IssuedCode): Promise<TokenResponse> {
  return postToken(b.url, basicAuth(b.site.clientId, b.site.clientSecret), {
    grant_type: 'authorization_code',
    code: issued.code,
    redirect_uri: b.site.redirectUri,
    code_verifier: issued.verifier,
  });
}

/** One full login as a new browser does it, then the member site's exchange. */
export async function fullLogin(b: BenchSite): Promise<TokenResponse> {
  const tokens = await exchangeCode(b, await codeThroughBrowser(b, new Agent(b.url, leanFetch)));
  if (!tokens.id_token || !tokens.refresh_token) throw new Error('expected an ID token and a refresh token');
  return tokens;
}

/**
 * One full payment as a new browser and the member site do it: PAR with a `payment` authorization
 * detail → /auth → login form (argon2 verify; answered with the approval page) → approve (hold on the ledger) → code →
 * /token. The access token must carry the approval number.
 */
export async function fullApproval(b: BenchSite, amount = 100): Promise<TokenResponse> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await client.buildAuthorizationUrlWithPAR(b.config, {
    redirect_uri: b.site.redirectUri,
    scope: 'openid',
    resource: b.site.resource,
    authorization_details: JSON.stringify([{ type: 'payment', amount, currency: 'KRW', description: 'Bench item' }]),
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const result = await runLogin(new Agent(b.url, leanFetch), url, b.card);
  if (result.kind !== 'redirect') throw new Error(`payment ended on a ${result.status} page`);
  const code = result.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${result.url.searchParams.get('error_description') ?? result.url.search}`);
  const tokens = await exchangeCode(b, { code, verifier });
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { approval_no?: string };
  if (!claims.approval_no) throw new Error('no approval number in the access token');
  return tokens;
}
