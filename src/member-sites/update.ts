import { z } from 'zod';
import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSiteForUpdate, updateMemberSite, type MemberSite, type MemberSitePatch } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { sha256Hex } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';
import { describeIssue } from '../lib/zod-issues.ts';
import { noSuchSite } from './list.ts';
import { checkSiteMetadata, fieldErrors, siteMetadataShape as site, type MetadataRules, type SiteMetadata } from './site-metadata.ts';

export interface UpdateDeps extends MetadataRules {
  db: Db;
}

/** Any subset of the operator-set metadata; null clears an optional field. */
export const updateInput = z
  .object({
    name: site.name,
    homepageUri: site.homepageUri,
    logoUri: site.logoUri,
    redirectUris: site.redirectUris,
    postLogoutRedirectUris: site.postLogoutRedirectUris,
    tokenEndpointAuthMethod: site.tokenEndpointAuthMethod,
    jwks: site.jwks,
    jwksUri: site.jwksUri,
    resourceServers: site.resourceServers,
    contentRating: site.contentRating,
    scope: site.scope,
    maxAmount: site.maxAmount,
    accessTokenTtl: site.accessTokenTtl,
    idTokenTtl: site.idTokenTtl,
    refreshTokenTtl: site.refreshTokenTtl,
    backchannelLogoutUri: site.backchannelLogoutUri,
    backchannelLogoutSessionRequired: site.backchannelLogoutSessionRequired,
    approvalEventsUri: site.approvalEventsUri,
    allowedClaims: site.allowedClaims,
    requirePushedAuthorizationRequests: site.requirePushedAuthorizationRequests,
    /** The operator's choice only: a site's own registration update (RFC 7592) never carries it. */
    autoCapture: z.boolean({ error: 'must be true or false' }),
  })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export type UpdateInput = z.input<typeof updateInput>;

export interface Updated {
  site: MemberSite;
  /** Only when the site moved from private_key_jwt to a secret: shown once. */
  clientSecret?: string;
}

function metadataOf(s: MemberSite): SiteMetadata {
  return {
    name: s.name,
    homepageUri: s.homepageUri,
    logoUri: s.logoUri,
    redirectUris: s.redirectUris,
    postLogoutRedirectUris: s.postLogoutRedirectUris,
    tokenEndpointAuthMethod: s.tokenEndpointAuthMethod,
    jwks: s.jwks,
    jwksUri: s.jwksUri,
    resourceServers: s.resourceServers,
    contentRating: s.contentRating,
    scope: s.scope,
    maxAmount: s.maxAmount,
    accessTokenTtl: s.accessTokenTtl ?? null,
    idTokenTtl: s.idTokenTtl ?? null,
    refreshTokenTtl: s.refreshTokenTtl ?? null,
    backchannelLogoutUri: s.backchannelLogoutUri ?? null,
    backchannelLogoutSessionRequired: s.backchannelLogoutSessionRequired ?? false,
    approvalEventsUri: s.approvalEventsUri ?? null,
    allowedClaims: s.allowedClaims ?? null,
    requirePushedAuthorizationRequests: s.requirePushedAuthorizationRequests ?? false,
  };
}

/**
 * Requiring PAR (RFC 9126 §6) as asked, and who asked: the operator's setting is the operator's to clear, so a site's
 * own update leaves one the operator set on; one the site set itself it may turn off. The operator setting it on
 * makes it the operator's. Undefined: not asked, nothing changes.
 */
function requireParOf(
  current: MemberSite,
  asked: boolean | undefined,
  bySite: boolean,
): Required<Pick<MemberSitePatch, 'requirePushedAuthorizationRequests' | 'requireParBySite'>> | undefined {
  if (asked === undefined) return undefined;
  if (!bySite) return { requirePushedAuthorizationRequests: asked, requireParBySite: false };
  if (current.requirePushedAuthorizationRequests && !current.requireParBySite) return { requirePushedAuthorizationRequests: true, requireParBySite: false };
  return { requirePushedAuthorizationRequests: asked, requireParBySite: asked };
}

/**
 * Changes a member site's metadata: the result is validated as a whole (same rules as registration),
 * then written with an audit entry in one transaction. `opts.clientSecret` is a secret already chosen
 * elsewhere (oidc-provider, for an RFC 7592 update that moves the site to a secret method); `opts.bySite` says the
 * site itself asks (RFC 7592), which may clear requirePushedAuthorizationRequests only if it set it (requireParOf).
 */
export async function updateSite(
  deps: UpdateDeps,
  clientId: string,
  input: UpdateInput,
  actor = 'operator',
  opts: { clientSecret?: string; bySite?: boolean } = {},
): Promise<Updated> {
  const parsed = updateInput.safeParse(input, { error: describeIssue });
  if (!parsed.success) throw new ValidationError('Some fields need attention.', fieldErrors(parsed.error));
  const change = parsed.data;
  return inTransaction(deps.db, async (trx) => {
    const current = await findMemberSiteForUpdate(trx, clientId);
    if (!current) throw noSuchSite(clientId);
    if (current.status === 'closed') throw new ConflictError(`Member site ${clientId} is closed and cannot be changed.`);
    const merged: SiteMetadata = { ...metadataOf(current), ...change } as SiteMetadata;
    const par = requireParOf(current, change.requirePushedAuthorizationRequests, opts.bySite === true);
    if (par) merged.requirePushedAuthorizationRequests = par.requirePushedAuthorizationRequests;
    // Giving one kind of key replaces the other; moving to a secret drops the keys.
    if (change.jwks !== undefined && change.jwksUri === undefined) merged.jwksUri = null;
    if (change.jwksUri !== undefined && change.jwks === undefined) merged.jwks = null;
    const toSecret = merged.tokenEndpointAuthMethod !== 'private_key_jwt';
    if (toSecret && change.jwks === undefined && change.jwksUri === undefined) {
      merged.jwks = null;
      merged.jwksUri = null;
    }
    await checkSiteMetadata(trx, deps, merged, {
      ratingSet: change.contentRating !== undefined && change.contentRating !== current.contentRating,
      // Like the rating: a scope taken away later leaves the list a ceiling over what remains (site-metadata.ts).
      claimsSet: change.allowedClaims !== undefined,
    });

    const patch: MemberSitePatch = { ...merged, ...par };
    let clientSecret: string | undefined;
    if (!toSecret) {
      Object.assign(patch, { clientSecretHash: null, previousSecretHash: null, previousSecretExpiresAt: null });
    } else if (!current.clientSecretHash || opts.clientSecret) {
      clientSecret = opts.clientSecret ?? randomToken(32);
      Object.assign(patch, { clientSecretHash: sha256Hex(clientSecret), previousSecretHash: null, previousSecretExpiresAt: null });
    }
    await updateMemberSite(trx, clientId, patch);
    await appendAudit(trx, {
      actor,
      action: 'member_site.updated',
      subjectType: 'member_site',
      subjectId: clientId,
      details: { fields: Object.keys(change), newSecret: Boolean(clientSecret) },
    });
    const site = (await findMemberSiteForUpdate(trx, clientId))!;
    return clientSecret ? { site, clientSecret } : { site };
  });
}
