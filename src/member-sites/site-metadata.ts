import { importJWK } from 'jose';
import { z } from 'zod';
import type { Conn } from '../db/knex.ts';
import { findResourceServer, type ClientAuthMethod } from '../db/member-sites.ts';
import { ValidationError } from '../errors.ts';
import { hasControlCharacters } from '../lib/control-characters.ts';

/**
 * Scopes a member site may be allowed to ask for (the provider's scopes); openid is always among them. birthdate is in
 * no default (register.ts): the operator grants it to a site that needs the date itself, not only an age_over_NN.
 */
export const SITE_SCOPES = ['openid', 'profile', 'offline_access', 'birthdate'] as const;

/**
 * The claims a site's list of allowed claims may name, with the scope that gives each (OIDC Core §5.4; as
 * oidc/scope-claims.ts maps them for the provider). age_over_NN, one per configured rating age, is given by no scope: a
 * claims request names it. sub is always given; naming it is allowed and changes nothing.
 */
export const CLAIM_SCOPES: Readonly<Record<string, string>> = { sub: 'openid', name: 'profile', birthdate: 'birthdate' };

/** Every claim name a site's allowed claims may list under these ratings: sub, name, birthdate, age_over_NN. */
export function knownClaims(ratings: Readonly<Record<string, number>>): string[] {
  const ages = [...new Set(Object.values(ratings).filter((age) => age > 0))].sort((a, b) => a - b);
  return [...Object.keys(CLAIM_SCOPES), ...ages.map((age) => `age_over_${age}`)];
}

/** Ceilings for per-site token lifetimes (seconds); the deployment's config may be lower still. */
export const TTL_LIMITS = { accessToken: 86_400, idToken: 86_400, refreshToken: 31_536_000 } as const;

const uri = z
  .string()
  .max(2000)
  .refine((s) => URL.canParse(s), 'must be an absolute URL')
  .refine((s) => !s.includes('#'), 'must not contain a fragment')
  .refine((s) => !s.includes('*'), 'must not contain wildcards')
  .refine((s) => !URL.canParse(s) || ['http:', 'https:'].includes(new URL(s).protocol), 'must be http or https')
  .refine((s) => !URL.canParse(s) || (!new URL(s).username && !new URL(s).password), 'must not contain credentials');

const jwk = z.record(z.string(), z.unknown());

const amount = 'must be a whole number of minor units from 1 to 1000000000000';
const seconds = (min: number, max: number) => `must be a whole number of seconds from ${min} to ${max}`;
const ttl = (min: number, max: number) => z.number({ error: seconds(min, max) }).int(seconds(min, max)).min(min, seconds(min, max)).max(max, seconds(min, max));

/**
 * Every field an operator sets on a member site, shared by register and update. Messages read after the field's
 * name ("redirect_uris must not contain wildcards", as /reg answers); zod's own checks are put the same way by the
 * parse's error map (lib/zod-issues.ts describeIssue).
 */
export const siteMetadataShape = {
  // Shown to holders and printed on the operator's terminal (disputes list, sites list): no escape sequences or controls.
  name: z.string().trim().min(1).max(100).refine((s) => !hasControlCharacters(s), 'must not contain control characters'),
  homepageUri: uri.nullable(),
  logoUri: uri.nullable(),
  redirectUris: z.array(uri).min(1).max(20),
  postLogoutRedirectUris: z.array(uri).max(20),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
  jwks: z.object({ keys: z.array(jwk).min(1).max(20) }, { error: 'must be a JSON Web Key Set: {"keys": [...]}' }).strict().nullable(),
  jwksUri: uri.nullable(),
  resourceServers: z.array(z.string().min(1).max(2000)).max(50),
  contentRating: z.number({ error: 'must be an age from 0 to 99' }).int('must be an age from 0 to 99').min(0, 'must be an age from 0 to 99').max(99, 'must be an age from 0 to 99'),
  scope: z
    .string()
    .trim()
    .max(200)
    .refine((s) => s.split(/\s+/).includes('openid'), 'must include openid')
    .refine(
      (s) => s.split(/\s+/).every((x) => (SITE_SCOPES as readonly string[]).includes(x)),
      `only ${SITE_SCOPES.join(', ')}`,
    ),
  maxAmount: z.number({ error: amount }).int(amount).positive(amount).max(1_000_000_000_000, amount).nullable(),
  accessTokenTtl: ttl(30, TTL_LIMITS.accessToken).nullable(),
  idTokenTtl: ttl(60, TTL_LIMITS.idToken).nullable(),
  refreshTokenTtl: ttl(60, TTL_LIMITS.refreshToken).nullable(),
  // Back-Channel Logout 1.0 §2.2: where the site takes Logout Tokens, and whether it needs their sid.
  backchannelLogoutUri: uri.nullable(),
  backchannelLogoutSessionRequired: z.boolean({ error: 'must be true or false' }),
  // RFC 8935: where the site takes approval events (Security Event Tokens) pushed to it.
  approvalEventsUri: uri.nullable(),
  // The claims the site may be given, below what its scopes give; null: the scopes alone decide (checkSiteMetadata).
  allowedClaims: z.array(z.string({ error: 'must be a list of claim names, or null' }).max(40), { error: 'must be a list of claim names, or null' }).max(20).nullable(),
  // RFC 9126 §6: every authorization request of the site through PAR, so only the site (authenticated there) starts one.
  requirePushedAuthorizationRequests: z.boolean({ error: 'must be true or false' }),
};

/** A member site's metadata after defaults, as checkSiteMetadata sees it. */
export interface SiteMetadata {
  name: string;
  homepageUri: string | null;
  logoUri: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  tokenEndpointAuthMethod: ClientAuthMethod;
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
  resourceServers: string[];
  contentRating: number;
  scope: string;
  maxAmount: number | null;
  accessTokenTtl: number | null;
  idTokenTtl: number | null;
  refreshTokenTtl: number | null;
  backchannelLogoutUri: string | null;
  backchannelLogoutSessionRequired: boolean;
  approvalEventsUri: string | null;
  allowedClaims: string[] | null;
  requirePushedAuthorizationRequests: boolean;
}

export interface MetadataRules {
  /** Production: every URI (redirects, homepage, logo, JWKS) must be https. */
  requireHttps: boolean;
  /** The deployment's content ratings (config `ratings`): label → age. A site's rating is one of these ages. */
  ratings: Readonly<Record<string, number>>;
}

/**
 * Why a site's rating is not one the deployment knows, or undefined. The age checks at login and the approval page
 * speak the configured ratings (a payment's `rating` is one of their labels): a site rated 18 where the ratings are
 * ALL/12/15/19 would be held to an age no page or claim names. 0 is no rating, always allowed (the default).
 */
export function ratingProblem(rating: number, ratings: Readonly<Record<string, number>>): string | undefined {
  const ages = [...new Set([0, ...Object.values(ratings)])].sort((a, b) => a - b);
  if (ages.includes(rating)) return undefined;
  const named = ages.map((age) => {
    const labels = Object.keys(ratings).filter((l) => ratings[l] === age && l !== String(age));
    return labels.length ? `${age} (${labels.join(', ')})` : String(age);
  });
  return `must be one of the configured ratings: ${named.join(', ')}`;
}

/** Field → first message, from a zod error. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.filter((p) => typeof p !== 'number').join('.') || 'input';
    out[key] ??= issue.path.some((p) => typeof p === 'number') ? `${issue.message} (item ${issue.path.find((p) => typeof p === 'number')})` : issue.message;
  }
  return out;
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const DEFAULT_ALG: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };
const KEY_ALGS = new Set(['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA']);

/** Why a JWKS is unusable for private_key_jwt, or undefined: public signing keys only, each importable. */
export async function jwksProblem(jwks: { keys: Record<string, unknown>[] }): Promise<string | undefined> {
  for (const [i, key] of jwks.keys.entries()) {
    const at = `key ${i}${typeof key.kid === 'string' ? ` (${key.kid})` : ''}`;
    if (PRIVATE_JWK_MEMBERS.some((m) => m in key)) {
      return `${at} contains private or symmetric key material; register public keys only`;
    }
    if (!['RSA', 'EC', 'OKP'].includes(String(key.kty))) return `${at}: kty must be RSA, EC or OKP`;
    if (key.use !== undefined && key.use !== 'sig') return `${at}: use must be "sig"`;
    const alg = typeof key.alg === 'string' ? key.alg : key.kty === 'RSA' ? 'RS256' : DEFAULT_ALG[String(key.crv)];
    if (!alg || !KEY_ALGS.has(alg)) return `${at}: unsupported algorithm or curve`;
    try {
      const imported = await importJWK(key, alg);
      if (!(imported instanceof Uint8Array) && imported.type !== 'public') return `${at} is not a public key`;
    } catch {
      return `${at} is not a valid ${alg} public key`;
    }
  }
  return undefined;
}

/**
 * The checks that span fields (a single schema cannot express them), run on the merged result of
 * a registration or an update: https in production, one redirect host, post-logout and back-channel logout URIs on
 * the redirect URIs' origin, keys matching the authentication method, and resource servers that exist. The rating is
 * checked against the configured ones only when `ratingSet` (a registration, or a change of it): a site stored with
 * another before this rule keeps it through its other changes.
 */
export async function checkSiteMetadata(
  conn: Conn,
  rules: MetadataRules,
  m: SiteMetadata,
  { ratingSet, claimsSet = false }: { ratingSet: boolean; claimsSet?: boolean },
): Promise<void> {
  const fields: Record<string, string> = {};
  const rating = ratingSet ? ratingProblem(m.contentRating, rules.ratings) : undefined;
  if (rating) fields.contentRating = rating;
  const claims = claimsSet ? claimsProblem(m, rules.ratings) : undefined;
  if (claims) fields.allowedClaims = claims;
  const uris: Array<[string, string | null]> = [
    ...m.redirectUris.map((u) => ['redirectUris', u] as [string, string]),
    ...m.postLogoutRedirectUris.map((u) => ['postLogoutRedirectUris', u] as [string, string]),
    ['homepageUri', m.homepageUri],
    ['logoUri', m.logoUri],
    ['jwksUri', m.jwksUri],
    ['backchannelLogoutUri', m.backchannelLogoutUri],
    ['approvalEventsUri', m.approvalEventsUri],
  ];
  if (rules.requireHttps) {
    for (const [field, u] of uris) if (u && new URL(u).protocol !== 'https:') fields[field] ??= 'must be https in production';
  }
  // Subjects are pairwise per member site and oidc-provider derives the sector from the redirect
  // URIs' host (OIDC Core §8.1): one host per site, or the same person would get two subjects.
  const hosts = new Set(m.redirectUris.map((u) => new URL(u).host));
  if (hosts.size > 1) {
    fields.redirectUris ??= `all redirect URIs must be on one host (got ${[...hosts].join(', ')}); register a separate member site per host`;
  }
  // RP-Initiated Logout 1.0 §2 asks only that the URI be registered, but the provider sends a browser to one given with
  // a bare client_id (no id_token_hint): anyone may link to /session/end with it. On another origin than the site's
  // own, that is a redirect through the card manager to wherever it points; kept to the redirect URIs' origins (the
  // one host above, and its scheme), the holder goes back to the site the operator registered.
  const elsewhere = postLogoutElsewhere(m);
  if (elsewhere.length) {
    fields.postLogoutRedirectUris ??= `must be on the origin of the redirect URIs (${redirectOrigins(m).join(', ')}), got ${elsewhere.join(', ')}`;
  }
  // The card manager posts Logout Tokens there, server to server, for the site alone: held to the same origin, a
  // site cannot point the card manager's posts at another party's server.
  if (m.backchannelLogoutUri && !redirectOrigins(m).includes(new URL(m.backchannelLogoutUri).origin)) {
    fields.backchannelLogoutUri ??= `must be on the origin of the redirect URIs (${redirectOrigins(m).join(', ')}), got ${m.backchannelLogoutUri}`;
  }
  // Approval events are pushed there server to server (RFC 8935), as Logout Tokens are: the same origin, for the same reason.
  if (m.approvalEventsUri && !redirectOrigins(m).includes(new URL(m.approvalEventsUri).origin)) {
    fields.approvalEventsUri ??= `must be on the origin of the redirect URIs (${redirectOrigins(m).join(', ')}), got ${m.approvalEventsUri}`;
  }
  if (m.tokenEndpointAuthMethod === 'private_key_jwt') {
    if (!m.jwks && !m.jwksUri) fields.jwks = 'the site’s public keys are needed with private_key_jwt: jwks or jwks_uri';
    if (m.jwks && m.jwksUri) fields.jwks = 'give jwks or jwks_uri, not both';
    if (m.jwks) {
      const problem = await jwksProblem(m.jwks);
      if (problem) fields.jwks = problem;
    }
  } else if (m.jwks || m.jwksUri) {
    fields.jwks = 'keys are only used with private_key_jwt';
  }
  for (const rs of m.resourceServers) {
    if (!(await findResourceServer(conn, rs))) {
      fields.resourceServers ??= `unknown resource server: ${rs}`;
    }
  }
  if (new Set(m.resourceServers).size !== m.resourceServers.length) fields.resourceServers ??= 'listed twice';
  const first = Object.entries(fields)[0];
  if (first) throw new ValidationError('Some fields need attention.', fields);
}

/**
 * Why a site's allowed claims are not a list the card manager can honour, or undefined: each a claim it gives, once,
 * and each with a scope the site is allowed (a name listed without profile would be given never, which the operator
 * should hear of now). Checked, like the rating, only when the list is set: a site's own RFC 7592 update that gives
 * up a scope then leaves the list a ceiling over what remains, and the claim is simply no longer given.
 */
function claimsProblem(m: SiteMetadata, ratings: Readonly<Record<string, number>>): string | undefined {
  if (!m.allowedClaims) return undefined;
  const known = knownClaims(ratings);
  const unknown = m.allowedClaims.filter((c) => !known.includes(c));
  if (unknown.length) return `must be among ${known.join(', ')} (got ${unknown.join(', ')})`;
  if (new Set(m.allowedClaims).size !== m.allowedClaims.length) return 'listed twice';
  const scopes = m.scope.split(/\s+/);
  for (const claim of m.allowedClaims) {
    const scope = CLAIM_SCOPES[claim];
    if (scope && !scopes.includes(scope)) return `claim ${claim} needs the ${scope} scope, which this site is not allowed`;
  }
  return undefined;
}

/** The origins (scheme, host, port) of a site's redirect URIs. */
function redirectOrigins(m: { redirectUris: readonly string[] }): string[] {
  return [...new Set(m.redirectUris.map((u) => new URL(u).origin))];
}

/** The post-logout redirect URIs of a site that are not on an origin of its redirect URIs (see the check above). */
export function postLogoutElsewhere(m: { redirectUris: readonly string[]; postLogoutRedirectUris: readonly string[] }): string[] {
  const origins = new Set(redirectOrigins(m));
  return m.postLogoutRedirectUris.filter((u) => !origins.has(new URL(u).origin));
}
