import type { Client, KoaContextWithOIDC } from 'oidc-provider';

export interface DeploymentTtls {
  accessToken: number;
  idToken: number;
  refreshToken: number;
  /** Access tokens that carry a payment approval. */
  paymentToken: number;
}

interface TokenLike {
  resourceServer?: { accessTokenTTL?: number };
  rar?: Array<{ type?: unknown }>;
}

/** A per-site lifetime from the client metadata (see member-sites/client-metadata.ts), if set. */
function siteTtl(client: Client | undefined, key: string): number | undefined {
  const v = (client as unknown as Record<string, unknown> | undefined)?.[`urn:cybercard:${key}`];
  return typeof v === 'number' && v > 0 ? v : undefined;
}

function shortest(...values: Array<number | undefined>): number {
  return Math.min(...values.filter((v): v is number => v !== undefined));
}

/**
 * oidc-provider's ttl functions: the deployment's setting is the ceiling, lowered by the resource
 * server's lifetime, the member site's own lifetime and, for a token carrying a payment, the
 * payment-token lifetime (a lost card must stop such tokens soon even without strict mode).
 */
export function createTokenTtls(t: DeploymentTtls) {
  function accessToken(_ctx: KoaContextWithOIDC, token: TokenLike, client: Client): number {
    const payment = token.rar?.some((d) => d.type === 'payment') ? t.paymentToken : undefined;
    return shortest(t.accessToken, token.resourceServer?.accessTokenTTL, siteTtl(client, 'access_token_ttl'), payment);
  }
  return {
    AccessToken: accessToken,
    ClientCredentials: accessToken,
    IdToken: (_ctx: KoaContextWithOIDC, _token: unknown, client: Client) => shortest(t.idToken, siteTtl(client, 'id_token_ttl')),
    RefreshToken: (_ctx: KoaContextWithOIDC, _token: unknown, client: Client) =>
      shortest(t.refreshToken, siteTtl(client, 'refresh_token_ttl')),
  };
}
