import type { Db } from '../db/knex.ts';
import { deleteRetired, type RetentionPolicy } from '../db/retention.ts';
import type { Logger } from '../log.ts';

/**
 * Deletes retired rows (db/retention.ts) every `intervalSeconds` (0 turns it off). Every instance may run it:
 * rows one run is deleting, another skips. Returns a function that stops it.
 */
export function startRetention(db: Db, log: Logger, policy: RetentionPolicy & { intervalSeconds: number }): () => void {
  if (policy.intervalSeconds <= 0) return () => {};
  const timer = setInterval(() => {
    deleteRetired(db, policy).then(
      (n) => (n.outbox || n.idempotencyKeys || n.oneTimeCodes || n.contactChanges) && log.info(n, 'retired rows deleted'),
      (err: unknown) => log.warn({ err }, 'retention run failed'),
    );
  }, policy.intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
