import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';

interface TokenLike {
  clientId?: string | undefined;
}

/**
 * Introspection (RFC 7662 §4): a member site learns only about its own tokens; for anyone else's
 * the answer is simply `active: false`, which reveals nothing.
 */
export async function introspectionAllowed(_ctx: KoaContextWithOIDC, client: Client, token: TokenLike): Promise<boolean> {
  return token.clientId === client.clientId;
}

/** Revocation (RFC 7009 §2.1): a member site may revoke only tokens issued to it. */
export async function revocationAllowed(_ctx: KoaContextWithOIDC, client: Client, token: TokenLike): Promise<boolean> {
  if (token.clientId !== client.clientId) {
    throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
  }
  return true;
}
