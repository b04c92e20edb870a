import type { Conn } from '../db/knex.ts';
import { findMemberSite, type MemberSite } from '../db/member-sites.ts';

export interface MemberSiteDeps {
  /** Signing algorithm for ID tokens; symmetric algorithms are never used (secrets are stored hashed). */
  idTokenAlg: string;
}

/** oidc-provider client metadata for a member site; closed sites do not exist for the provider. */
export function toClientMetadata(site: MemberSite, deps: MemberSiteDeps): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    client_id: site.clientId,
    client_name: site.name,
    redirect_uris: site.redirectUris,
    post_logout_redirect_uris: site.postLogoutRedirectUris,
    // A suspended site cannot start a flow (no response type), exchange a code or refresh (no such
    // grant): the provider itself refuses /par, /auth and /token. It keeps client_credentials, to read
    // its approvals (they read as suspended) through the API.
    grant_types: site.status === 'active' ? ['authorization_code', 'refresh_token', 'client_credentials'] : ['client_credentials'],
    response_types: site.status === 'active' ? ['code'] : [],
    token_endpoint_auth_method: site.tokenEndpointAuthMethod,
    subject_type: 'pairwise',
    id_token_signed_response_alg: deps.idTokenAlg,
    scope: site.scope,
    authorization_details_types: ['payment'],
    'urn:cybercard:content_rating': site.contentRating,
    'urn:cybercard:status': site.status,
    'urn:cybercard:resource_servers': site.resourceServers,
    'urn:cybercard:max_amount': site.maxAmount,
    // The claims the site may be given (oidc/allowed-claims.ts); null: those its scopes give, any age_over_NN.
    'urn:cybercard:allowed_claims': site.allowedClaims ?? null,
    // RFC 9126 §6, applied by oidc-provider: an authorization request not pushed through PAR is invalid_request.
    require_pushed_authorization_requests: site.requirePushedAuthorizationRequests ?? false,
  };
  if (site.tokenEndpointAuthMethod === 'private_key_jwt') {
    if (site.jwks) meta.jwks = site.jwks;
    if (site.jwksUri) meta.jwks_uri = site.jwksUri;
  } else if (site.clientSecretHash) {
    // The provider only ever compares against this (see oidc/client-secret.ts); it is the hash, not the secret.
    meta.client_secret = site.clientSecretHash;
    if (site.previousSecretHash && site.previousSecretExpiresAt) {
      // After a rotation the old secret keeps working until then (checked at each comparison).
      meta['urn:cybercard:previous_secret_hash'] = site.previousSecretHash;
      meta['urn:cybercard:previous_secret_expires_at'] = Math.floor(site.previousSecretExpiresAt.getTime() / 1000);
    }
  }
  if (site.accessTokenTtl) meta['urn:cybercard:access_token_ttl'] = site.accessTokenTtl;
  if (site.idTokenTtl) meta['urn:cybercard:id_token_ttl'] = site.idTokenTtl;
  if (site.refreshTokenTtl) meta['urn:cybercard:refresh_token_ttl'] = site.refreshTokenTtl;
  if (site.backchannelLogoutUri) {
    meta.backchannel_logout_uri = site.backchannelLogoutUri;
    meta.backchannel_logout_session_required = site.backchannelLogoutSessionRequired ?? false;
  }
  if (site.approvalEventsUri) meta.approval_events_uri = site.approvalEventsUri;
  if (site.homepageUri) meta.client_uri = site.homepageUri;
  if (site.logoUri) meta.logo_uri = site.logoUri;
  return meta;
}

/** Client metadata by client_id for the provider's Client model, or undefined for unknown or closed sites. */
export async function findClientMetadata(
  conn: Conn,
  deps: MemberSiteDeps,
  clientId: string,
  find: (conn: Conn, clientId: string) => Promise<MemberSite | undefined> = findMemberSite,
): Promise<Record<string, unknown> | undefined> {
  const site = await find(conn, clientId);
  if (!site || site.status === 'closed') return undefined;
  return toClientMetadata(site, deps);
}
