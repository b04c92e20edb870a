import { errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Db } from '../db/knex.ts';
import { findMemberSite, type MemberSite } from '../db/member-sites.ts';
import { AppError } from '../errors.ts';
import { secretMatches } from './secret-matches.ts';

export class SiteAuthError extends AppError {
  constructor(message = 'Member site authentication failed.') {
    super('invalid_client', message, { status: 401 });
  }
}

/**
 * A Bearer token the API does not take, as RFC 6750 §3.1 names it: `invalid_token` (401: expired, forged, for
 * another audience; the site gets a new one) or `insufficient_scope` (403: no `approvals`). The site's credentials
 * themselves were never in question, so not invalid_client.
 */
export class BearerTokenError extends AppError {
  constructor(code: 'invalid_token' | 'insufficient_scope', message: string) {
    super(code, message, { status: code === 'invalid_token' ? 401 : 403 });
  }
}

/** The card manager's own API as a resource server: client_credentials tokens for it carry `approvals`. */
export function apiResource(issuer: string): string {
  return `${issuer}/api`;
}

export const API_SCOPE = 'approvals';

export interface SiteAuthDeps {
  db: Db;
  issuer: string;
  /** The card manager's public signing keys as published now, to check client_credentials tokens locally. */
  verifyKeys: JWTVerifyGetKey;
}

/**
 * Reads the member site by client_id for authentication. A route may pass one that brings along, in
 * the same query, the row it needs next (findMemberSiteWithApproval); the site is checked all the same.
 */
export type SiteFinder<S extends MemberSite> = (db: Db, clientId: string) => Promise<S | undefined>;

function decodeBasic(value: string): { id: string; secret: string } | undefined {
  try {
    const raw = Buffer.from(value, 'base64').toString('utf8');
    const i = raw.indexOf(':');
    if (i <= 0) return undefined;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return { id: decodeURIComponent(raw.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(raw.slice(i + 1).replace(/\+/g, ' ')) };
  } catch {
    return undefined;
  }
}

/**
 * Authenticates a member site calling our API: HTTP Basic with its client secret (secret-based sites),
 * or a Bearer client_credentials access token issued by us for the API with the `approvals` scope
 * (any site, including private_key_jwt ones). Closed sites are refused; suspended ones are returned.
 */
export function createSiteAuthenticator(deps: SiteAuthDeps) {
  const audience = apiResource(deps.issuer);

  async function authenticateSite(authorization: string | undefined): Promise<MemberSite>;
  async function authenticateSite<S extends MemberSite>(authorization: string | undefined, find: SiteFinder<S>): Promise<S>;
  async function authenticateSite(authorization: string | undefined, find: SiteFinder<MemberSite> = findMemberSite): Promise<MemberSite> {
    const [scheme, value] = (authorization ?? '').split(' ', 2);
    if (!scheme || !value) throw new SiteAuthError('Send the member site credentials (Basic or Bearer).');
    let clientId: string;
    if (/^basic$/i.test(scheme)) {
      const creds = decodeBasic(value);
      if (!creds) throw new SiteAuthError();
      const site = await find(deps.db, creds.id);
      const hashes = {
        current: site?.clientSecretHash ?? null,
        previous: site?.previousSecretHash ?? null,
        previousUntilMs: site?.previousSecretExpiresAt?.getTime() ?? null,
      };
      if (!site || site.status === 'closed' || !site.clientSecretHash || !secretMatches(hashes, creds.secret)) {
        throw new SiteAuthError();
      }
      return site;
    } else if (/^bearer$/i.test(scheme)) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(value, deps.verifyKeys, { issuer: deps.issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] }));
      } catch (err) {
        throw new BearerTokenError(
          'invalid_token',
          err instanceof joseErrors.JWTExpired
            ? 'The bearer token has expired: ask /token for a new one.'
            : `The bearer token is not valid here: send a client_credentials token asked for with resource=${audience} and scope ${API_SCOPE}.`,
        );
      }
      // The site's own client_credentials token names the site as its subject. One from a holder's sign-in (an
      // authorization code for this resource) carries the site's client_id and the scope too, but it is the holder's, and
      // may sit in the holder's browser: it never acts for the site (captures, voids, refunds).
      if (typeof payload.client_id !== 'string' || payload.sub !== payload.client_id) {
        throw new BearerTokenError('invalid_token', `The bearer token is a holder's, not the member site's: send a client_credentials token asked for with resource=${audience} and scope ${API_SCOPE}.`);
      }
      const scopes = String(payload.scope ?? '').split(' ');
      if (!scopes.includes(API_SCOPE)) throw new BearerTokenError('insufficient_scope', `The token needs the "${API_SCOPE}" scope.`);
      clientId = String(payload.client_id);
    } else {
      throw new SiteAuthError('Unsupported authorization scheme.');
    }
    const site = await find(deps.db, clientId);
    if (!site || site.status === 'closed') throw new SiteAuthError();
    return site;
  }
  return authenticateSite;
}

export type SiteAuthenticator = ReturnType<typeof createSiteAuthenticator>;
