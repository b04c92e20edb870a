import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { hmacSha256 } from '../lib/hmac.ts';

/**
 * Pairwise subject per member site (OIDC Core §8.1): HMAC of client_id and account under a server key,
 * so two member sites can never correlate the same holder.
 */
export function createPairwiseIdentifier(key: Buffer) {
  return function pairwiseIdentifier(_ctx: KoaContextWithOIDC, accountId: string, client: Client): string {
    return hmacSha256(key, `pairwise:${client.clientId}:${accountId}`).toString('base64url');
  };
}
