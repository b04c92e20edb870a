import { z } from 'zod';
import { checkSiteMetadata, fieldErrors, siteMetadataShape as site, type MetadataRules, type SiteMetadata } from './site-metadata.ts';
import type { Db } from '../db/knex.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findMemberSite, insertMemberSite } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { sha256Hex } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';
import { describeIssue } from '../lib/zod-issues.ts';

export interface RegisterDeps extends MetadataRules {
  db: Db;
}

export const registerInput = z
  .object({
    clientId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'must be 3–64 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit')
      .optional(),
    name: site.name,
    redirectUris: site.redirectUris,
    postLogoutRedirectUris: site.postLogoutRedirectUris.default([]),
    tokenEndpointAuthMethod: site.tokenEndpointAuthMethod.default('client_secret_basic'),
    jwks: site.jwks.optional(),
    jwksUri: site.jwksUri.optional(),
    resourceServers: site.resourceServers.default([]),
    contentRating: site.contentRating.default(0),
    scope: site.scope.default('openid profile offline_access'),
    homepageUri: site.homepageUri.optional(),
    logoUri: site.logoUri.optional(),
    maxAmount: site.maxAmount.optional(),
    accessTokenTtl: site.accessTokenTtl.optional(),
    idTokenTtl: site.idTokenTtl.optional(),
    refreshTokenTtl: site.refreshTokenTtl.optional(),
    autoCapture: z.boolean({ error: 'must be true or false' }).optional(),
    backchannelLogoutUri: site.backchannelLogoutUri.optional(),
    backchannelLogoutSessionRequired: site.backchannelLogoutSessionRequired.default(false),
    approvalEventsUri: site.approvalEventsUri.optional(),
    allowedClaims: site.allowedClaims.optional(),
    requirePushedAuthorizationRequests: site.requirePushedAuthorizationRequests.default(false),
  })
  .strict();

export type RegisterInput = z.input<typeof registerInput>;

export interface Registered {
  clientId: string;
  /** Shown once; only its hash is stored. Absent for private_key_jwt sites. */
  clientSecret?: string;
}

/**
 * Registers a member site (an OIDC client) after validating its metadata. `preset` carries the
 * client_id and secret oidc-provider already chose when the site registers itself (RFC 7591), and
 * `bySite` says it does: then it may name no resource server, which only the operator grants.
 */
export async function registerMemberSite(
  deps: RegisterDeps,
  input: RegisterInput,
  actor = 'operator',
  preset: { clientId?: string; clientSecret?: string; bySite?: boolean } = {},
): Promise<Registered> {
  const parsed = registerInput.safeParse(input, { error: describeIssue });
  if (!parsed.success) throw new ValidationError('Some fields need attention.', fieldErrors(parsed.error));
  const v = parsed.data;
  const metadata: SiteMetadata = {
    name: v.name,
    homepageUri: v.homepageUri ?? null,
    logoUri: v.logoUri ?? null,
    redirectUris: v.redirectUris,
    postLogoutRedirectUris: v.postLogoutRedirectUris,
    tokenEndpointAuthMethod: v.tokenEndpointAuthMethod,
    jwks: v.jwks ?? null,
    jwksUri: v.jwksUri ?? null,
    resourceServers: v.resourceServers,
    contentRating: v.contentRating,
    scope: v.scope,
    maxAmount: v.maxAmount ?? null,
    accessTokenTtl: v.accessTokenTtl ?? null,
    idTokenTtl: v.idTokenTtl ?? null,
    refreshTokenTtl: v.refreshTokenTtl ?? null,
    backchannelLogoutUri: v.backchannelLogoutUri ?? null,
    backchannelLogoutSessionRequired: v.backchannelLogoutSessionRequired,
    approvalEventsUri: v.approvalEventsUri ?? null,
    allowedClaims: v.allowedClaims ?? null,
    requirePushedAuthorizationRequests: v.requirePushedAuthorizationRequests,
  };
  // An access token for a resource server is accepted there by its audience alone, and the registration token admits a
  // site without vouching that an API is its own: one naming an API, held by another site or by none yet, would get
  // tokens it takes for its owner's. Granting one is the operator's (register or update by the operator); a site's own
  // RFC 7592 update may keep or drop what it was granted, never widen it (oidc/registration-store.ts).
  if (preset.bySite && metadata.resourceServers.length > 0) {
    throw new ValidationError('Some fields need attention.', {
      resourceServers: `granted by the operator only: ${metadata.resourceServers.join(' ')}; register without them and ask the operator`,
    });
  }
  await checkSiteMetadata(deps.db, deps, metadata, { ratingSet: true, claimsSet: true });
  const clientId = preset.clientId ?? v.clientId ?? `site_${randomToken(12)}`;
  const method = metadata.tokenEndpointAuthMethod;
  const clientSecret = method === 'private_key_jwt' ? undefined : (preset.clientSecret ?? randomToken(32));

  await inTransaction(deps.db, async (trx) => {
    if (await findMemberSite(trx, clientId)) throw new ConflictError(`A member site ${clientId} exists already.`, { clientId: 'Taken by another member site.' });
    await insertMemberSite(trx, {
      ...metadata,
      clientId,
      status: 'active',
      clientSecretHash: clientSecret ? sha256Hex(clientSecret) : null,
      // Only the key set itself is stored, never other members a caller put beside `keys`.
      jwks: metadata.jwks ? { keys: metadata.jwks.keys } : null,
      autoCapture: v.autoCapture ?? false,
      // Turned on in the site's own registration: the site may turn it off again (oidc/registration-store.ts).
      requireParBySite: preset.bySite === true && metadata.requirePushedAuthorizationRequests,
    });
    await appendAudit(trx, {
      actor,
      action: 'member_site.registered',
      subjectType: 'member_site',
      subjectId: clientId,
      details: { name: v.name, tokenEndpointAuthMethod: method },
    });
  });
  return clientSecret ? { clientId, clientSecret } : { clientId };
}
