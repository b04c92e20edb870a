import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../db/knex.ts';
import {
  countActiveKeys,
  announceKeyChange,
  anyKeySigningNow,
  deleteKey,
  insertKeyActivatingIn,
  listKeys,
  lockKeysForChange,
  type PublishedKeys,
  type SigningKeyRow,
} from '../db/signing-keys.ts';
import { appendAudit } from '../db/audit-log.ts';
import { inTransaction } from '../db/tx.ts';
import { ConfigError, ConflictError, NotFoundError } from '../errors.ts';

export const SIGNING_ALG = 'ES256';

export interface RotatedKey {
  kid: string;
  activatesAt: Date;
}

/**
 * Generates a new ES256 key that starts signing `activateInSeconds` from now and is published from now on; the key
 * signing until then retires at that moment (still published while tokens it signed may live). With several
 * instances, give them time to read it first (keys.publishAheadSeconds): none signs with a key another does not
 * publish yet. The first key signs at once.
 */
export async function rotateSigningKey(db: Db, activateInSeconds: number, actor = 'system'): Promise<RotatedKey> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const activatesAt = await inTransaction(db, async (trx) => {
    // One rotation at a time: another's key, not yet committed, would otherwise be left unretired beside this one.
    await lockKeysForChange(trx);
    // With no key signing now (the first one), there is nothing to wait for: it signs at once.
    const wait = (await anyKeySigningNow(trx)) ? activateInSeconds : 0;
    const at = await insertKeyActivatingIn(trx, kid, SIGNING_ALG, { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' }, wait);
    await appendAudit(trx, { actor, action: 'signing_key.rotated', subjectType: 'signing_key', subjectId: kid, details: { activatesAt: at.toISOString() } });
    await announceKeyChange(trx);
    return at;
  });
  return { kid, activatesAt };
}

/**
 * Withdraws a key that does not sign now and never will (retired, or overtaken before it started): deleted at once,
 * so tokens it signed stop verifying as each instance hears of it. For a key that may have leaked: rotate with no
 * wait first.
 */
export async function withdrawSigningKey(db: Db, kid: string, actor = 'system'): Promise<void> {
  await inTransaction(db, async (trx) => {
    await lockKeysForChange(trx);
    const { rows: [key], now } = await listKeys(trx, { kid });
    if (!key) throw new NotFoundError(`There is no signing key ${kid}.`, { kid: `There is no signing key ${kid}.` });
    const state = keyState(key, now);
    if (state === 'signing' || state === 'next') {
      throw new ConflictError(`Key ${kid} signs now or is waiting to: rotate first (keys rotate --now), then withdraw it.`);
    }
    await deleteKey(trx, kid);
    await appendAudit(trx, { actor, action: 'signing_key.withdrawn', subjectType: 'signing_key', subjectId: kid, details: {} });
    await announceKeyChange(trx);
  });
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
  await rotateSigningKey(db, 0);
}

export type KeyState = 'signing' | 'next' | 'retired' | 'unused';

/** What a key does at `now`: signs, waits to sign, signed before (retired), or never signed (retired before it started). */
export function keyState(key: SigningKeyRow, now: Date): KeyState {
  const retired = key.retiredAt !== null && key.retiredAt <= now;
  if (key.retiredAt !== null && key.retiredAt <= key.activatesAt) return 'unused';
  if (retired) return 'retired';
  return key.activatesAt <= now ? 'signing' : 'next';
}

export interface KeySchedule {
  /** The key that signs now; undefined if none does (every key waits to start, or was withdrawn). */
  signingKid: string | undefined;
  /** The private JWKS for oidc-provider: the signing key first (it signs with the first), then the rest. */
  jwks: { keys: Record<string, unknown>[] };
  /** Milliseconds until a key starts or stops signing, if one does. */
  nextChangeMs: number | undefined;
}

/** Which key signs now, and what oidc-provider is given, from the published keys and the database's clock. */
export function keySchedule({ rows, now }: PublishedKeys): KeySchedule {
  // Latest activation first: the first key signing now is the one.
  const signer = rows.find((r) => keyState(r, now) === 'signing');
  const changes = rows
    .flatMap((r) => [r.activatesAt, r.retiredAt])
    .filter((t): t is Date => t !== null && t > now)
    .map((t) => t.getTime() - now.getTime());
  return {
    signingKid: signer?.kid,
    jwks: { keys: [...(signer ? [signer] : []), ...rows.filter((r) => r !== signer)].map((r) => r.privateJwk) },
    nextChangeMs: changes.length ? Math.min(...changes) : undefined,
  };
}

/** How long a retired key stays published: the longest token lifetime it may have signed, and an hour's margin. */
export function keepRetiredSeconds(ttl: { accessToken: number; idToken: number }): number {
  return Math.max(ttl.accessToken, ttl.idToken) + 3600;
}

/** The published keys with what signs now (reads only). */
export async function loadKeySchedule(db: Db, keepRetiredSeconds: number): Promise<KeySchedule> {
  return keySchedule(await listKeys(db, { keepRetiredSeconds }));
}

export interface KeyListing {
  kid: string;
  state: KeyState;
  activatesAt: Date;
  retiredAt: Date | null;
}

/** Every key with what it does now (`keys list`). */
export async function listSigningKeys(db: Db): Promise<KeyListing[]> {
  const { rows, now } = await listKeys(db);
  return rows.map((r) => ({ kid: r.kid, state: keyState(r, now), activatesAt: r.activatesAt, retiredAt: r.retiredAt }));
}

/** The public half of a private JWKS (what /jwks publishes). */
export function publicKeys(jwks: { keys: Record<string, unknown>[] }): { keys: JWK[] } {
  return {
    keys: jwks.keys.map(({ kty, crv, x, y, kid, alg, use }) => ({ kty, crv, x, y, kid, alg, use }) as JWK),
  };
}
