import { endExpiredHolderSessions } from '../db/holder-sessions.ts';
import { endExpiredOperatorSessions } from '../db/operator-sessions.ts';
import type { Db } from '../db/knex.ts';
import { DATA_EXPORT_WINDOW_SECONDS, deleteStaleThrottles, type CardLimits, type SourceLimits } from '../db/throttles.ts';
import type { Logger } from '../log.ts';

/**
 * Every `intervalSeconds` (0: never), deletes throttle rows that no longer decide anything and ends expired
 * holder and operator sessions (an operator's also once older than `operatorMaxSeconds`), each audited. Several instances may
 * run it at once: deleting what is already gone is harmless.
 */
export function startThrottleCleanup(
  db: Db,
  log: Logger,
  limits: { card: CardLimits; source: SourceLimits },
  intervalSeconds: number,
  operatorMaxSeconds: number,
): () => void {
  if (intervalSeconds <= 0) return () => {};
  // A data_export row decides nothing once its window is over: its last use is older than the window.
  const idle = Math.max(limits.card.windowSeconds, limits.source.windowSeconds, limits.source.maxDelaySeconds, DATA_EXPORT_WINDOW_SECONDS);
  const timer = setInterval(() => {
    Promise.all([
      deleteStaleThrottles(db, idle, limits.card.strikeMemorySeconds),
      endExpiredHolderSessions(db),
      endExpiredOperatorSessions(db, operatorMaxSeconds),
    ]).then(
      ([throttles, sessions, operatorSessions]) =>
        (throttles || sessions || operatorSessions) && log.info({ throttles, sessions, operatorSessions }, 'stale throttles and sessions deleted'),
      (err: unknown) => log.warn({ err }, 'throttle cleanup failed'),
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
