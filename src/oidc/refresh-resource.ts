import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';

type GetResourceServerInfo = (ctx: KoaContextWithOIDC, resource: string, client: Client) => Promise<ResourceServer>;

/** A refresh token or an authorization code as far as its resource goes (oidc-provider's BaseToken). */
export interface RefreshTokenResource {
  resource?: string | string[] | undefined;
  resourceIndicators: Set<string | undefined>;
}

const ONE_RESOURCE = 'only a single resource indicator value must be requested/resolved during Access Token Request';

/**
 * oidc-provider's defaultResource: no resource for a request that names none, and the ones named when a token request
 * names several, which the provider then refuses (invalid_target): one access token is for one resource. Answering
 * none there too gave a token for userinfo instead, as if the site had named no resource. A grant holding several,
 * exchanged or refreshed without one named, still gets the token for userinfo.
 */
export function defaultResource(ctx: KoaContextWithOIDC, _client: Client, oneOf?: string[]): string[] | undefined {
  return oneOf && Array.isArray(ctx.oidc.params?.resource) ? oneOf : undefined;
}

/**
 * At a refresh, before it is spent (or at a code exchange, given the code: oidc/code-resource.ts): the resource its access token will be for (the one named, else the one granted, as
 * oidc-provider resolves it with useGrantedResource) must be one the refresh token holds and the site may still ask
 * for (getResourceServerInfo). The provider asks only after it has rotated the refresh token, so its invalid_target
 * spent the token, and the site's retry with it revoked the whole grant as a replay.
 */
export function createRefuseUnusableResource(getResourceServerInfo: GetResourceServerInfo) {
  return async function refuseUnusableResource(ctx: KoaContextWithOIDC, source?: RefreshTokenResource): Promise<void> {
    const token = source ?? (ctx.oidc.entities.RefreshToken as unknown as RefreshTokenResource | undefined);
    const client = ctx.oidc.client;
    if (!token || !client) return;
    const named = ctx.oidc.params?.resource as string | string[] | undefined;
    if (Array.isArray(named)) throw new errors.InvalidTarget(ONE_RESOURCE);
    const resource = named ?? token.resource;
    // Several granted, none named: the provider issues the token for userinfo (defaultResource), nothing to check.
    if (typeof resource !== 'string') return;
    if (!token.resourceIndicators.has(resource)) throw new errors.InvalidTarget();
    await getResourceServerInfo(ctx, resource, client);
  };
}
