import type { Provider } from 'oidc-provider';
import { secretMatches } from '../member-sites/secret-matches.ts';

/** Client metadata properties that carry the previous secret during a rotation's overlap window. */
export const PREVIOUS_SECRET_HASH = 'urn:cybercard:previous_secret_hash';
export const PREVIOUS_SECRET_EXPIRES_AT = 'urn:cybercard:previous_secret_expires_at';

/**
 * Member-site secrets are stored as SHA-256 hashes, and the client metadata carries the hash.
 * oidc-provider compares presented secrets through Client#compareClientSecret, so hash first.
 * Safe because nothing else uses the secret: client_secret_jwt and HS* algorithms are disabled.
 * After a rotation the previous secret's hash is accepted too, until its window ends.
 */
export function compareHashedClientSecrets(provider: Provider): void {
  provider.Client.prototype.compareClientSecret = function compareClientSecret(actual: string): boolean {
    if (typeof this.clientSecret !== 'string' || typeof actual !== 'string') return false;
    const meta = this as unknown as Record<string, unknown>;
    const previous = meta[PREVIOUS_SECRET_HASH];
    const until = meta[PREVIOUS_SECRET_EXPIRES_AT];
    return secretMatches(
      {
        current: this.clientSecret,
        previous: typeof previous === 'string' ? previous : null,
        previousUntilMs: typeof until === 'number' ? until * 1000 : null,
      },
      actual,
    );
  };
}
