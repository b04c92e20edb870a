import { deleteExpiredHolderSessions } from '../db/holder-sessions.ts';
import type { Db } from '../db/knex.ts';
import { deleteStaleThrottles, type CardLimits, type SourceLimits } from '../db/throttles.ts';
import type { Logger } from '../log.ts';

/**
 * Every `intervalSeconds` (0: never), deletes throttle rows that no longer decide anything and expired
 * holder sessions. Several instances may run it at once: deleting what is already gone is harmless.
 */
export function startThrottleCleanup(
  db: Db,
  log: Logger,
  limits: { card: CardLimits; source: SourceLimits },
  intervalSeconds: number,
): () => void {
  if (intervalSeconds <= 0) return () => {};
  const idle = Math.max(limits.card.windowSeconds, limits.source.windowSeconds, limits.source.maxDelaySeconds);
  const timer = setInterval(() => {
    Promise.all([deleteStaleThrottles(db, idle, limits.card.strikeMemorySeconds), deleteExpiredHolderSessions(db)]).then(
      ([throttles, sessions]) => (throttles || sessions) && log.info({ throttles, sessions }, 'stale throttles and holder sessions deleted'),
      (err: unknown) => log.warn({ err }, 'throttle cleanup failed'),
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
