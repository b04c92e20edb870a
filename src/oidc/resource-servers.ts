import { errors, type KoaContextWithOIDC, type Client, type ResourceServer } from 'oidc-provider';
import type { Directory } from '../db/directory.ts';
import type { Db } from '../db/knex.ts';
import { memoInRequest } from '../db/request-scope.ts';
import { SIGNING_ALG } from './keys.ts';
import { API_SCOPE, apiResource } from '../member-sites/authenticate.ts';

/** The resource servers a member site may ask tokens for (its registered audiences). */
export function allowedResources(client: Client): string[] {
  const v = (client as unknown as Record<string, unknown>)['urn:cybercard:resource_servers'];
  return Array.isArray(v) ? (v as string[]) : [];
}

/**
 * Whether the provider is answering a client_credentials token request: the one grant no holder takes part in. The
 * provider asks getResourceServerInfo at authorization and PAR requests (and their resumption), and at /token for
 * each grant type; only this one names the site alone as the token's subject.
 */
function isClientCredentialsGrant(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';
}

/**
 * oidc-provider's getResourceServerInfo: registered resource servers only, and only those the
 * member site is registered for; access tokens for them are ES256 JWTs (RFC 9068). The card manager's own API only
 * for the site's client_credentials grant.
 */
export function createGetResourceServerInfo(db: Db, directory: Directory, maxAccessTokenTtl: number, issuer: string) {
  const api = apiResource(issuer);
  return async function getResourceServerInfo(
    ctx: KoaContextWithOIDC,
    resourceIndicator: string,
    client: Client,
  ): Promise<ResourceServer> {
    // Every member site may call the card manager's own API (its approvals) with a client_credentials token, and only
    // with that: a holder's sign-in (authorization, PAR, code, refresh) for it would give a token carrying the site's
    // client_id and the approvals scope that may sit in the holder's browser. The API refuses such a token too
    // (member-sites/authenticate.ts); it is not issued in the first place.
    if (resourceIndicator === api) {
      if (!isClientCredentialsGrant(ctx)) {
        throw new errors.InvalidTarget('the card manager\'s own API is only for the member site\'s client_credentials grant, never a holder\'s sign-in');
      }
      return { scope: API_SCOPE, audience: api, accessTokenTTL: maxAccessTokenTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: SIGNING_ALG } } };
    }
    // A suspended site keeps client_credentials for the API above alone: its own resource servers are closed to it.
    if ((client as unknown as Record<string, unknown>)['urn:cybercard:status'] !== 'active') {
      throw new errors.InvalidTarget('this member site is suspended: only the card manager\'s own API is open to it');
    }
    const rs = await memoInRequest(`resource-server:${resourceIndicator}`, () => directory.resourceServer(db, resourceIndicator));
    if (!rs || !allowedResources(client).includes(resourceIndicator)) {
      throw new errors.InvalidTarget('this member site is not registered for that resource server');
    }
    return {
      scope: rs.scope,
      audience: rs.identifier,
      accessTokenTTL: Math.min(rs.accessTokenTtl ?? maxAccessTokenTtl, maxAccessTokenTtl),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: SIGNING_ALG } },
    };
  };
}
