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
 * oidc-provider's getResourceServerInfo: registered resource servers only, and only those the
 * member site is registered for; access tokens for them are ES256 JWTs (RFC 9068).
 */
export function createGetResourceServerInfo(db: Db, directory: Directory, maxAccessTokenTtl: number, issuer: string) {
  const api = apiResource(issuer);
  return async function getResourceServerInfo(
    _ctx: KoaContextWithOIDC,
    resourceIndicator: string,
    client: Client,
  ): Promise<ResourceServer> {
    // Every member site may call the card manager's own API (its approvals) with a client_credentials token.
    if (resourceIndicator === api) {
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
