import type { Db } from '../db/knex.ts';
import { deleteExpiredPayloads } from '../db/oidc-payloads.ts';
import type { Logger } from '../log.ts';

/**
 * Deletes expired oidc-provider rows every `intervalSeconds` (0 turns it off). Several instances may
 * run it at once: deleting what is already gone is harmless. Returns a function that stops it.
 */
export function startPayloadCleanup(db: Db, log: Logger, intervalSeconds: number): () => void {
  if (intervalSeconds <= 0) return () => {};
  const timer = setInterval(() => {
    deleteExpiredPayloads(db).then(
      (n) => n && log.info({ deleted: n }, 'expired oidc payloads deleted'),
      (err: unknown) => log.warn({ err }, 'oidc payload cleanup failed'),
    );
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
