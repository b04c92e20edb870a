import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/** The scopes that only mean something with a holder behind the token: an ID token and userinfo, a refresh token. */
const HOLDER_SCOPES = ['openid', 'offline_access'];

export const HOLDER_SCOPE_REFUSAL =
  "openid and offline_access are for a holder's sign-in; a client_credentials token has no holder: ask for your API's scopes only";

/**
 * A client_credentials request naming openid or offline_access is refused invalid_scope (RFC 6749 §3.3, §5.2) rather
 * than given a token whose scope says so (without a resource) or silently drops them (with one). oidc-provider checks a
 * requested scope only against the site's allowed scopes, which hold both for its holders' sign-ins; the grant has no
 * hook of its own, so this runs from extraTokenClaims, which the provider calls for each client_credentials token
 * before storing it: nothing is stored, and the token endpoint answers the error as JSON.
 */
export function refuseHolderScopes(ctx: KoaContextWithOIDC, token: { kind?: string }): void {
  if (token.kind !== 'ClientCredentials') return;
  const asked = typeof ctx.oidc.params?.scope === 'string' ? ctx.oidc.params.scope.split(' ') : [];
  const named = HOLDER_SCOPES.find((s) => asked.includes(s));
  if (named) throw new errors.InvalidScope(HOLDER_SCOPE_REFUSAL, named);
}
