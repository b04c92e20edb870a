import type { MemberSite } from '../db/member-sites.ts';

/** A member site as the operator sees it: everything but secrets (never a hash either). */
export function presentSite(s: MemberSite) {
  return {
    client_id: s.clientId,
    name: s.name,
    status: s.status,
    status_reason: s.statusReason ?? null,
    homepage_uri: s.homepageUri,
    logo_uri: s.logoUri,
    redirect_uris: s.redirectUris,
    post_logout_redirect_uris: s.postLogoutRedirectUris,
    token_endpoint_auth_method: s.tokenEndpointAuthMethod,
    jwks: s.jwks,
    jwks_uri: s.jwksUri,
    resource_servers: s.resourceServers,
    content_rating: s.contentRating,
    scope: s.scope,
    max_amount: s.maxAmount,
    access_token_ttl: s.accessTokenTtl ?? null,
    id_token_ttl: s.idTokenTtl ?? null,
    refresh_token_ttl: s.refreshTokenTtl ?? null,
    auto_capture: s.autoCapture ?? false,
    backchannel_logout_uri: s.backchannelLogoutUri ?? null,
    backchannel_logout_session_required: s.backchannelLogoutSessionRequired ?? false,
    approval_events_uri: s.approvalEventsUri ?? null,
    allowed_claims: s.allowedClaims ?? null,
    require_pushed_authorization_requests: s.requirePushedAuthorizationRequests ?? false,
    /** Who turned it on: the site itself may turn it off again (RFC 7592), the operator's stays until the operator clears it. */
    require_pushed_authorization_requests_set_by: s.requirePushedAuthorizationRequests ? (s.requireParBySite ? 'site' : 'operator') : null,
    previous_secret_valid_until: s.previousSecretExpiresAt ? s.previousSecretExpiresAt.toISOString() : null,
  };
}
