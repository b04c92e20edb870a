import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/knex.ts';
import { findMemberSite } from '../db/member-sites.ts';
import { isNulRefused } from '../db/pg-errors.ts';
import { AppError, ValidationError } from '../errors.ts';
import { closeSite } from '../member-sites/close.ts';
import { registerMemberSite } from '../member-sites/register.ts';
import type { MetadataRules } from '../member-sites/site-metadata.ts';
import { updateSite } from '../member-sites/update.ts';

export interface RegistrationStoreDeps extends MetadataRules {
  db: Db;
}

const HASH = /^[0-9a-f]{64}$/;

/** Our field name → the RFC 7591 name, so a refusal names what the site actually sent. */
const METADATA_NAMES: Record<string, string> = {
  name: 'client_name',
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  tokenEndpointAuthMethod: 'token_endpoint_auth_method',
  jwks: 'jwks',
  jwksUri: 'jwks_uri',
  resourceServers: 'urn:cybercard:resource_servers',
  contentRating: 'urn:cybercard:content_rating',
  homepageUri: 'client_uri',
  logoUri: 'logo_uri',
  scope: 'scope',
  backchannelLogoutUri: 'backchannel_logout_uri',
  backchannelLogoutSessionRequired: 'backchannel_logout_session_required',
  approvalEventsUri: 'approval_events_uri',
  requirePushedAuthorizationRequests: 'require_pushed_authorization_requests',
};

/** A refusal from our validation as RFC 7591 §3.2.2 error (invalid_redirect_uri for redirect URIs). */
function asMetadataError(err: unknown): unknown {
  if (isNulRefused(err)) return new errors.InvalidClientMetadata('client metadata must not contain NUL characters');
  if (!(err instanceof AppError) || !err.expose) return err;
  const [field, message] = Object.entries(err.fields ?? {})[0] ?? [];
  const name = field ? (METADATA_NAMES[field.split('.')[0]!] ?? field) : undefined;
  // oidc-provider maps a description starting with "redirect_uris" to invalid_redirect_uri.
  return new errors.InvalidClientMetadata(name && message ? `${name} ${message}` : err.message);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/**
 * approval_events_uri, ours rather than the standard's: oidc-provider checks no type of it, so anything but a string
 * (or null, none) is refused here, never taken for "none" while the answer echoes it back as if it were kept.
 */
function approvalEventsUriOf(meta: Record<string, unknown>): string | null {
  const v = meta.approval_events_uri;
  if (v !== undefined && v !== null && typeof v !== 'string') throw new errors.InvalidClientMetadata('approval_events_uri must be a URL');
  return str(v) ?? null;
}

/**
 * urn:cybercard:resource_servers and urn:cybercard:content_rating, ours too and as unchecked by oidc-provider: an update
 * compares them with what the operator granted before any schema reads them, so a value of another type is refused
 * here (a string's resource servers would otherwise fail that comparison as a server error).
 */
function grantedOf(meta: Record<string, unknown>): { resourceServers: string[]; contentRating: number } {
  const servers = meta['urn:cybercard:resource_servers'] ?? [];
  if (!Array.isArray(servers) || !servers.every((s) => typeof s === 'string')) {
    throw new errors.InvalidClientMetadata('urn:cybercard:resource_servers must be an array of resource server identifiers');
  }
  const rating = meta['urn:cybercard:content_rating'] ?? 0;
  if (typeof rating !== 'number' || !Number.isInteger(rating)) throw new errors.InvalidClientMetadata('urn:cybercard:content_rating must be a whole number');
  return { resourceServers: servers as string[], contentRating: rating };
}

/**
 * Writes a client that registered itself (RFC 7591) or updated itself (RFC 7592) through our
 * member-site domain, with the same validation an operator's registration gets. The provider hands
 * us the plaintext client_secret it generated; only its hash is stored. On an update the provider
 * passes back the stored hash unchanged, which we recognise and keep.
 */
export async function saveRegisteredClient(deps: RegistrationStoreDeps, clientId: string, meta: Record<string, unknown>): Promise<void> {
  const jwks = meta.jwks as { keys: Record<string, unknown>[] } | undefined;
  const fields = {
    name: str(meta.client_name) ?? '',
    redirectUris: (meta.redirect_uris as string[] | undefined) ?? [],
    postLogoutRedirectUris: (meta.post_logout_redirect_uris as string[] | undefined) ?? [],
    tokenEndpointAuthMethod: (str(meta.token_endpoint_auth_method) ?? 'client_secret_basic') as 'client_secret_basic',
    jwks: jwks ? { keys: jwks.keys } : null,
    jwksUri: str(meta.jwks_uri) ?? null,
    ...grantedOf(meta),
    scope: str(meta.scope) ?? 'openid profile offline_access',
    homepageUri: str(meta.client_uri) ?? null,
    logoUri: str(meta.logo_uri) ?? null,
    backchannelLogoutUri: str(meta.backchannel_logout_uri) ?? null,
    backchannelLogoutSessionRequired: meta.backchannel_logout_session_required === true,
    approvalEventsUri: approvalEventsUriOf(meta),
    // oidc-provider checked it is a boolean (false when left out).
    requirePushedAuthorizationRequests: meta.require_pushed_authorization_requests === true,
  };
  const presented = str(meta.client_secret);
  try {
    const existing = await findMemberSite(deps.db, clientId);
    if (!existing) {
      // The holder's date of birth goes only to a site the operator chose to grant it (sites update --scope), never to
      // one that names it in its own registration: the registration token admits a site, it vouches for no need.
      if (fields.scope.split(/\s+/).includes('birthdate')) {
        throw new ValidationError('granted by the operator only', { scope: 'birthdate is granted by the operator only; register without it and ask the operator' });
      }
      const { jwks: k, jwksUri, homepageUri, logoUri, backchannelLogoutUri, approvalEventsUri, ...rest } = fields;
      await registerMemberSite(
        deps,
        {
          ...rest,
          ...(k ? { jwks: k } : {}),
          ...(jwksUri ? { jwksUri } : {}),
          ...(homepageUri ? { homepageUri } : {}),
          ...(logoUri ? { logoUri } : {}),
          ...(backchannelLogoutUri ? { backchannelLogoutUri } : {}),
          ...(approvalEventsUri ? { approvalEventsUri } : {}),
        },
        'dcr',
        { clientId, ...(presented ? { clientSecret: presented } : {}), bySite: true },
      );
      return;
    }
    // A site may raise its own rating, never lower it: lowering could let minors in (the operator can).
    if (fields.contentRating < existing.contentRating) {
      throw new ValidationError('cannot be lowered by the site', { contentRating: 'can only be raised here; ask the operator to lower it' });
    }
    // What the operator granted (resource servers, scopes) a site may keep or give up, never widen: an update
    // rebuilds the site from what it sends, so a scope it leaves out stays as it is rather than the default.
    if (meta.scope === undefined) fields.scope = existing.scope;
    // Requiring PAR (RFC 9126 §6): a site may turn it on for itself and off again, never off when the operator set it
    // (updateSite decides, under the row's lock); an update that leaves it out or sends false then keeps it on, and the
    // answer says so (answerWithKeptMetadata).
    const widened = (asked: string[], had: string[]) => asked.filter((x) => !had.includes(x));
    const moreServers = widened(fields.resourceServers, existing.resourceServers);
    if (moreServers.length) {
      throw new ValidationError('cannot be widened by the site', { resourceServers: `not granted to this site: ${moreServers.join(' ')}; ask the operator` });
    }
    const words = (s: string) => s.split(' ').filter(Boolean);
    const moreScope = widened(words(fields.scope), words(existing.scope));
    if (moreScope.length) throw new ValidationError('cannot be widened by the site', { scope: `not granted to this site: ${moreScope.join(' ')}; ask the operator` });
    const fresh = presented && !HASH.test(presented) ? presented : undefined;
    await updateSite(deps, clientId, fields, `dcr:${clientId}`, { bySite: true, ...(fresh ? { clientSecret: fresh } : {}) });
  } catch (err) {
    throw asMetadataError(err);
  }
}

/** RFC 7592 delete: the site is closed (never removed: approvals and the audit trail name it). */
export async function closeRegisteredClient(db: Db, clientId: string): Promise<void> {
  await closeSite(db, clientId, 'deleted by the site through RFC 7592', `dcr:${clientId}`);
}

/**
 * RFC 7592 read and update answer with the client's metadata, which for us carries the stored secret
 * hash and the rotation fields: those never leave the server. The plaintext secret is shown once, when
 * the provider generated it (registration, or a move to a secret method).
 */
export async function hideStoredSecrets(ctx: { oidc?: { route?: string }; body?: unknown }, next: () => Promise<void>): Promise<void> {
  await next();
  if (!['registration', 'client', 'client_update'].includes(ctx.oidc?.route ?? '') || !ctx.body || typeof ctx.body !== 'object') return;
  const body = ctx.body as Record<string, unknown>;
  if (typeof body.client_secret === 'string' && HASH.test(body.client_secret)) delete body.client_secret;
  for (const key of Object.keys(body)) if (key.startsWith('urn:cybercard:previous_secret')) delete body[key];
}

/** What the provider's answer to a registration or an update carries besides the client's metadata. */
const ANSWER_ONLY = ['client_secret', 'client_secret_expires_at', 'client_id_issued_at', 'registration_access_token', 'registration_client_uri'];

/**
 * RFC 7591 §3.2.1 and RFC 7592 §2.2: a registration or an update is answered with the client's metadata as
 * registered. oidc-provider answers with what the site sent, but the member-site registry keeps only its own fields
 * (saveRegisteredClient): a site sending metadata it does not keep (require_signed_request_object), or one of our operator's fields
 * (max_amount, a token lifetime, status), was told they were registered when none is kept or applied. The answer is
 * the stored client's metadata, as a read (RFC 7592 §2.1) shows it, with the secret and tokens of the answer.
 */
export async function answerWithKeptMetadata(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  if (!['registration', 'client_update'].includes(ctx.oidc?.route ?? '') || ctx.status >= 300 || !ctx.body || typeof ctx.body !== 'object') return;
  const body = ctx.body as Record<string, unknown>;
  const kept = typeof body.client_id === 'string' ? await ctx.oidc.provider.Client.find(body.client_id) : undefined;
  if (!kept) return;
  const answerOnly = Object.fromEntries(ANSWER_ONLY.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
  ctx.body = { ...kept.metadata(), ...answerOnly };
}
