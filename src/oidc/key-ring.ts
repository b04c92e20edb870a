import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type Provider from 'oidc-provider';
import initializeKeyStore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { Db } from '../db/knex.ts';
import type { Logger } from '../log.ts';
import { deleteExpiredKeys } from '../db/signing-keys.ts';
import { loadKeySchedule, publicKeys, type KeySchedule } from './keys.ts';

/**
 * This instance's signing keys, as the database has them now. Every instance reads them when it hears they changed
 * (`keys rotate` and `keys withdraw` announce it on the directory's channel), every `refreshSeconds` whatever it heard,
 * and when a key it knows of starts or stops signing; it hands them to its provider without a restart. A key
 * `keys rotate` adds is published by every instance before any signs with it (keys.publishAheadSeconds), and all
 * switch to it at the moment it starts, judged by the database's clock.
 */
export interface KeyRing {
  /** The private JWKS read at open: the provider's configuration. */
  readonly jwks: { keys: Record<string, unknown>[] };
  /** The key this instance signs with now. */
  readonly signingKid: string | undefined;
  /** Our public keys as this instance publishes them now, for checking our own tokens outside the provider. */
  readonly verifyKeys: JWTVerifyGetKey;
  /** From now on gives `provider` the keys whenever they change. */
  start(provider: Provider): void;
  /** Reads the keys (a read begun before this call does not count) and hands them on, once started. */
  refresh(): Promise<void>;
  stop(): void;
}

export interface KeyRingOptions {
  db: Db;
  /** How long a retired key stays published (keys.ts keepRetiredSeconds). */
  keepRetiredSeconds: number;
  /** How often the keys are read whatever was heard; 0: only at open, when told, and at a start or end known of. */
  refreshSeconds: number;
  log: Logger;
}

/** setTimeout's longest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** After a failed read, the first wait before the next (doubling up to a minute). */
const RETRY_MS = 1000;

/** The kids in the order oidc-provider is given them, and so what it signs with and publishes. */
function kidsOf(s: KeySchedule): string[] {
  return s.jwks.keys.map((k) => String(k.kid));
}

export async function openKeyRing({ db, keepRetiredSeconds, refreshSeconds, log }: KeyRingOptions): Promise<KeyRing> {
  // Keys whose tokens have all expired go at each start (and each rotation): nothing reads them again.
  await deleteExpiredKeys(db, keepRetiredSeconds);
  let current = await loadKeySchedule(db, keepRetiredSeconds);
  if (!current.signingKid) log.error('no signing key signs now: run `npm run cli -- keys rotate --now`');
  let localSet = createLocalJWKSet(publicKeys(current.jwks));
  let provider: Provider | undefined;
  let poll: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> | undefined;
  let readAgain: Promise<void> | undefined;
  let retryMs = RETRY_MS;
  let stopped = false;

  function readIn(ms: number): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void ring.refresh(), Math.min(ms, MAX_TIMER_MS));
    timer.unref();
  }

  /** A read at the next start or end of a key, unless the poll comes first. */
  function readAtNextChange(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const ms = current.nextChangeMs;
    if (stopped || ms === undefined || (refreshSeconds > 0 && ms > refreshSeconds * 1000)) return;
    // A little after the moment by the database's clock; a read that comes early finds it still ahead and waits again.
    readIn(ms + 25);
  }

  /** Hands `next` to the provider, then takes it as current: if it cannot be used, the keys stay as they were. */
  function adopt(next: KeySchedule): void {
    const published = kidsOf(next);
    /** Keeps the keys we have (only the next start or end read is taken) and says why. */
    const keepPrevious = (why: string, err?: unknown) => {
      log.error({ err, published }, `${why}: keeping the previous keys`);
      current = { ...current, nextChangeMs: next.nextChangeMs };
    };
    // Nothing may sign now (every key waits to start, or was deleted by hand): keep signing with what we had.
    if (!next.signingKid) return keepPrevious('no signing key signs now');
    if (published.join(' ') === kidsOf(current).join(' ')) {
      current = next;
      return;
    }
    try {
      // The provider checks a key's shape only; a key that is not one (a point off its curve) would fail every token it signs.
      for (const jwk of next.jwks.keys) createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
      if (provider) initializeKeyStore.call(provider, next.jwks);
    } catch (err) {
      return keepPrevious('the provider refused the signing keys read', err);
    }
    current = next;
    localSet = createLocalJWKSet(publicKeys(next.jwks));
    log.info({ signingKid: next.signingKid, published }, 'signing keys changed');
  }

  async function read(): Promise<void> {
    let next: KeySchedule;
    try {
      next = await loadKeySchedule(db, keepRetiredSeconds);
    } catch (err) {
      log.warn({ err, retryMs }, 'could not read the signing keys; keeping the ones read before');
      if (!stopped) readIn(retryMs);
      retryMs = Math.min(retryMs * 2, 60_000);
      return;
    }
    retryMs = RETRY_MS;
    adopt(next);
    readAtNextChange();
  }

  const ring: KeyRing = {
    get jwks() {
      return current.jwks;
    },
    get signingKid() {
      return current.signingKid;
    },
    verifyKeys: (header, token) => localSet(header, token),
    start(p) {
      provider = p;
      if (refreshSeconds > 0) {
        poll = setInterval(() => void ring.refresh(), refreshSeconds * 1000);
        poll.unref();
      }
      readAtNextChange();
    },
    refresh() {
      if (stopped) return Promise.resolve();
      if (!reading) {
        reading = read().finally(() => {
          reading = undefined;
        });
        return reading;
      }
      // A read under way may have begun before what the caller wants seen: one more after it, shared by all who ask meanwhile.
      readAgain ??= reading.then(() => {
        readAgain = undefined;
        return ring.refresh();
      });
      return readAgain;
    },
    stop() {
      stopped = true;
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
  return ring;
}
