import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { createCard } from '../../src/cards/create-card.ts';
import { upsertResourceServer } from '../../src/db/member-sites.ts';
import { registerMemberSite, type RegisterInput } from '../../src/member-sites/register.ts';
import type { TestServer } from './server.ts';

export interface TestCard {
  accountId: string;
  cardId: string;
  number: string;
  password: string;
}

/** Issues a real card through the cards domain. */
export async function issueTestCard(ts: TestServer, birthdate = '1990-01-01', name = 'Test Holder'): Promise<TestCard> {
  const c = await createCard(ts.cm.cards, { legalName: name, birthdate }, 'test');
  return { accountId: c.accountId, cardId: c.cardId, number: c.cardNumber, password: c.password };
}

export interface TestSite {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutUri: string;
  resource: string;
}

/** Registers a member site with its own resource server; its redirect URI points nowhere real. */
export async function registerTestSite(ts: TestServer, extra: Partial<RegisterInput> = {}): Promise<TestSite> {
  const tag = randomBytes(4).toString('hex');
  const resource = `https://api-${tag}.example.test/`;
  await upsertResourceServer(ts.db, { identifier: resource, name: `API ${tag}`, scope: 'read', accessTokenTtl: null });
  const redirectUri = `https://site-${tag}.example.test/callback`;
  const postLogoutUri = `https://site-${tag}.example.test/`;
  const reg = await registerMemberSite(
    { db: ts.db, requireHttps: false, ratings: ts.config.ratings },
    {
      name: `Site ${tag}`,
      redirectUris: [redirectUri],
      postLogoutRedirectUris: [postLogoutUri],
      tokenEndpointAuthMethod: 'client_secret_basic',
      resourceServers: [resource],
      ...extra,
    },
    'test',
  );
  return { clientId: reg.clientId, clientSecret: reg.clientSecret ?? '', redirectUri, postLogoutUri, resource };
}

/** openid-client configured as the member site (plain http is allowed: the test server is local). */
export function siteClient(ts: TestServer, site: TestSite, auth?: client.ClientAuth): Promise<client.Configuration> {
  return client.discovery(new URL(ts.url), site.clientId, undefined, auth ?? client.ClientSecretBasic(site.clientSecret), {
    execute: [client.allowInsecureRequests],
  });
}

export interface AuthRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** A PKCE (S256) authorization request URL for the site. */
export async function authRequest(
  config: client.Configuration,
  site: TestSite,
  params: Record<string, string> = {},
): Promise<AuthRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: site.redirectUri,
    scope: 'openid profile offline_access',
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

/**
 * A member site's pushed authorization request (PAR) with these `authorization_details` for its resource server, PKCE
 * and state as the member site keeps them: the URL to send the browser to, and what the code exchange needs.
 */
export function payRequest(config: client.Configuration, site: TestSite, details: unknown[], extra: Record<string, string> = {}) {
  return pushedRequest(config, site, { authorization_details: JSON.stringify(details), ...extra });
}

/** A member site's pushed authorization request (PAR) for openid and its resource server, PKCE and state, with `params`. */
export async function pushedRequest(config: client.Configuration, site: TestSite, params: Record<string, string>) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: site.redirectUri,
    scope: 'openid',
    resource: site.resource,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  return { url, verifier, state };
}
