import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import type Provider from 'oidc-provider';
import initializeKeyStore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { Db } from '../db/knex.ts';
import type { Logger } from '../log.ts';
import { loadKeySchedule, publicKeys, type KeySchedule } from './keys.ts';

/**
 * This instance's signing keys, as the database has them now. Every instance reads them every `refreshSeconds`
 * and again when a key it knows of starts or stops signing, and hands them to its provider without a restart:
 * a key `keys rotate` adds is published by every instance before any signs with it (keys.publishAheadSeconds),
 * and all switch to it at the moment it starts, judged by the database's clock.
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
  /** Reads the keys now (and hands them on, once started). */
  refresh(): Promise<void>;
  stop(): void;
}

export interface KeyRingOptions {
  db: Db;
  /** How long a retired key stays published: the longest token lifetime and a margin. */
  keepRetiredSeconds: number;
  /** How often the keys are read; 0: only at open and when a key known of starts or stops signing. */
  refreshSeconds: number;
  log: Logger;
}

/** The order oidc-provider is given, and so what it signs with and publishes. */
function fingerprint(s: KeySchedule): string {
  return s.jwks.keys.map((k) => String(k.kid)).join(' ');
}

export async function openKeyRing({ db, keepRetiredSeconds, refreshSeconds, log }: KeyRingOptions): Promise<KeyRing> {
  let current = await loadKeySchedule(db, keepRetiredSeconds);
  if (!current.signingKid) log.error('no signing key signs now: run `npm run cli -- keys rotate --now`');
  let localSet = createLocalJWKSet(publicKeys(current.jwks));
  let provider: Provider | undefined;
  let poll: NodeJS.Timeout | undefined;
  let atChange: NodeJS.Timeout | undefined;
  let reading: Promise<void> | undefined;
  let stopped = false;

  function scheduleChange(): void {
    if (atChange) clearTimeout(atChange);
    atChange = undefined;
    const ms = current.nextChangeMs;
    if (stopped || ms === undefined || (refreshSeconds > 0 && ms > refreshSeconds * 1000)) return;
    // A little after the moment by the database's clock; a read that comes early finds it still ahead and waits again.
    atChange = setTimeout(() => void ring.refresh(), ms + 25);
    atChange.unref();
  }

  function adopt(next: KeySchedule): void {
    const changed = fingerprint(next) !== fingerprint(current);
    if (!next.signingKid) {
      // Nothing may sign now (every key waits to start, or was deleted by hand): keep signing with what we had.
      log.error({ published: next.jwks.keys.map((k) => k.kid) }, 'no signing key signs now: keeping the previous keys');
      current = { ...current, nextChangeMs: next.nextChangeMs };
      return;
    }
    current = next;
    if (!changed) return;
    if (provider) initializeKeyStore.call(provider, next.jwks);
    localSet = createLocalJWKSet(publicKeys(next.jwks));
    log.info({ signingKid: next.signingKid, published: next.jwks.keys.map((k) => k.kid) }, 'signing keys changed');
  }

  async function read(): Promise<void> {
    try {
      adopt(await loadKeySchedule(db, keepRetiredSeconds));
    } catch (err) {
      log.warn({ err }, 'could not read the signing keys; keeping the ones read before');
    } finally {
      scheduleChange();
    }
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
      scheduleChange();
    },
    refresh() {
      if (stopped) return Promise.resolve();
      // One read at a time: a timer that fires during a read shares it.
      reading ??= read().finally(() => {
        reading = undefined;
      });
      return reading;
    },
    stop() {
      stopped = true;
      if (poll) clearInterval(poll);
      if (atChange) clearTimeout(atChange);
    },
  };
  return ring;
}
