import { safeEqual, sha256Hex } from '../lib/hmac.ts';

/** The stored secret hashes of a member site: the current one and, after a rotation, the previous one. */
export interface SecretHashes {
  current: string | null;
  previous?: string | null;
  /** Until when the previous secret is still accepted (epoch milliseconds). */
  previousUntilMs?: number | null;
}

/**
 * True when `presented` is the current secret, or the previous one inside its overlap window.
 * Both comparisons always run, in constant time, so timing does not tell which one matched.
 */
export function secretMatches(hashes: SecretHashes, presented: string, nowMs = Date.now()): boolean {
  const hash = sha256Hex(presented);
  const current = hashes.current !== null && safeEqual(hashes.current, hash);
  const inWindow = hashes.previous && hashes.previousUntilMs !== null && hashes.previousUntilMs !== undefined && nowMs < hashes.previousUntilMs;
  const previous = safeEqual(hashes.previous ?? '', hash) && Boolean(inWindow);
  return current || previous;
}
