import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import type { RefreshTokenResource } from './refresh-resource.ts';

type RefuseUnusableResource = (ctx: KoaContextWithOIDC, source: RefreshTokenResource) => Promise<void>;

/** What the built-in handler takes (lib/helpers/initialize_app.js with resourceIndicators and richAuthorizationRequests). */
const PARAMETERS = ['code', 'code_verifier', 'redirect_uri', 'resource', 'authorization_details'];

/**
 * oidc-provider's authorization_code handler consumes the code before it resolves the access token's resource
 * (actions/grants/authorization_code.js, then issueTokens): an exchange refused invalid_target for its resource spent
 * the code, and the site's retry with the right resource was refused invalid_grant (and a replay revokes the grant).
 * The handler is wrapped (registerGrantType, public) so that the resource is checked first, as at a refresh
 * (refresh-resource.ts), against the code as stored (AuthorizationCode.find, which spends nothing). Only a live code of
 * the authenticated site is checked: anything else goes to the built-in handler untouched, which refuses it
 * invalid_grant as before (a spent one as a replay). The built-in handler is read from oidc-provider's private state,
 * the one way to keep it; provider.ts calls this once, after the provider registered it.
 */
export function checkCodeResourceFirst(provider: Provider, refuseUnusableResource: RefuseUnusableResource): void {
  const builtIn = instance(provider).grantTypeHandlers.get('authorization_code');
  if (!builtIn) throw new Error('oidc-provider has no authorization_code handler to wrap (oidc/code-resource.ts): has its internals changed?');
  provider.registerGrantType(
    'authorization_code',
    async function exchangeCodeForUsableResource(ctx: KoaContextWithOIDC): Promise<void> {
      const value = ctx.oidc.params?.code;
      const code = typeof value === 'string' && value ? await provider.AuthorizationCode.find(value) : undefined;
      // consumed is set on a spent code (BaseModel), untyped in @types/oidc-provider.
      if (code && !(code as { consumed?: unknown }).consumed && code.clientId === ctx.oidc.client?.clientId) {
        await refuseUnusableResource(ctx, code as unknown as RefreshTokenResource);
      }
      await builtIn(ctx);
    },
    PARAMETERS,
    ['resource'],
  );
}
