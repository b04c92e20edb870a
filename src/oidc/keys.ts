import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../db/knex.ts';
import {
  countActiveKeys,
  deleteExpiredKeys,
  insertKeyRetiringOthers,
  listPublishedKeys,
} from '../db/signing-keys.ts';
import { inTransaction } from '../db/tx.ts';
import { ConfigError } from '../errors.ts';

export const SIGNING_ALG = 'ES256';

/** Generates a new ES256 key, makes it the signing key and retires the previous one (still published). */
export async function rotateSigningKey(db: Db): Promise<string> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  await inTransaction(db, (trx) => insertKeyRetiringOthers(trx, kid, SIGNING_ALG, { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' }));
  return kid;
}

/**
 * Makes sure a signing key exists. Development and test generate the first one;
 * production refuses, so an operator creates it deliberately with `keys rotate`.
 */
export async function ensureSigningKey(db: Db, allowGenerate: boolean): Promise<void> {
  if ((await countActiveKeys(db)) > 0) return;
  if (!allowGenerate) {
    throw new ConfigError('no signing key in the database: run `npm run cli -- keys rotate` once before starting');
  }
  await rotateSigningKey(db);
}

/**
 * The private JWKS for oidc-provider: the active key first (it signs), then retired keys still
 * within `keepRetiredSeconds`, so tokens they signed keep verifying until they expire.
 */
export async function loadJwks(db: Db, keepRetiredSeconds: number): Promise<{ keys: Record<string, unknown>[] }> {
  await deleteExpiredKeys(db, keepRetiredSeconds);
  const rows = await listPublishedKeys(db, keepRetiredSeconds);
  return { keys: rows.map((r) => r.privateJwk) };
}

/** The public half of a private JWKS (what /jwks publishes). */
export function publicKeys(jwks: { keys: Record<string, unknown>[] }): { keys: JWK[] } {
  return {
    keys: jwks.keys.map(({ kty, crv, x, y, kid, alg, use }) => ({ kty, crv, x, y, kid, alg, use }) as JWK),
  };
}
