import { recordSecretChecks } from '../db/secret-checks.ts';
import type { Db } from '../db/knex.ts';
import { ConfigError } from '../errors.ts';
import { hmacSha256 } from '../lib/hmac.ts';
import type { Secrets } from './schema.ts';

/** The secrets whose loss or change leaves the stored data unusable, by the variable that sets them. */
const CHECKED = {
  CARD_HMAC_KEY: { secret: (s: Secrets) => s.cardHmacKey, breaks: "card numbers are stored as HMACs under it, and member sites' pairwise subjects and the sealed TOTP secrets derive from it" },
  PASSWORD_PEPPER: { secret: (s: Secrets) => s.passwordPepper, breaks: 'every card password hash mixes it in' },
} as const;

function checkValue(name: string, key: Buffer): string {
  return hmacSha256(key, `cybercard secret check: ${name}`).toString('base64url');
}

/**
 * Refuses a process whose CARD_HMAC_KEY or PASSWORD_PEPPER is not the one the database was first used with: with
 * another key no card number is found and no password verifies, and a card issued meanwhile works only under the
 * wrong key (a CLI run without NODE_ENV=production generates secrets of its own, for one). The first start records
 * them.
 */
export async function checkSecretsAgainstDatabase(db: Db, secrets: Secrets): Promise<void> {
  const ours = Object.fromEntries(Object.entries(CHECKED).map(([name, c]) => [name, checkValue(name, c.secret(secrets))]));
  const stored = await recordSecretChecks(db, ours);
  const differ = Object.entries(CHECKED).filter(([name]) => stored[name] !== ours[name]);
  if (differ.length) {
    const generated = secrets.generated
      ? ' (this process took generated development secrets from dataDir/secrets.json: run it with NODE_ENV=production and the deployment\'s environment)'
      : '';
    throw new ConfigError(
      `${differ.map(([name]) => name).join(' and ')} ${differ.length > 1 ? 'are not the ones' : 'is not the one'} this database was first used with: ` +
        `${differ.map(([, c]) => c.breaks).join('; ')}. Start with the deployment's own${generated}`,
    );
  }
}
