import type { Provider } from 'oidc-provider';
import { safeEqual, sha256Hex } from '../lib/hmac.ts';

/**
 * Member-site secrets are stored as SHA-256 hashes, and the client metadata carries the hash.
 * oidc-provider compares presented secrets through Client#compareClientSecret, so hash first.
 * Safe because nothing else uses the secret: client_secret_jwt and HS* algorithms are disabled.
 */
export function compareHashedClientSecrets(provider: Provider): void {
  provider.Client.prototype.compareClientSecret = function compareClientSecret(actual: string): boolean {
    return typeof this.clientSecret === 'string' && safeEqual(this.clientSecret, sha256Hex(actual));
  };
}
