import type { Db } from '../db/knex.ts';
import { releaseGrownWards } from '../cards/release-grown-wards.ts';
import { deleteRetired, type RetentionPolicy } from '../db/retention.ts';
import type { Logger } from '../log.ts';

/**
 * Deletes retired rows (db/retention.ts), and ends the guardian link of children who came of age (cards/release-grown-wards.ts),
 * soon after start, then every `intervalSeconds` (0 turns it off). The first
 * run comes after a random delay of up to a minute (`firstRunMs` sets it), not a whole interval: instances restarted
 * more often than that would otherwise never run it, and several started together do not all run at once. A run
 * still going when the next is due is not doubled. Every instance may run it: rows one run is deleting, another
 * skips. Returns a function that stops it.
 */
export function startRetention(
  db: Db,
  log: Logger,
  policy: RetentionPolicy & { intervalSeconds: number; adultAge: number; timeZone: string },
  opts: { firstRunMs?: number } = {},
): () => void {
  if (policy.intervalSeconds <= 0) return () => {};
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    Promise.all([
      deleteRetired(db, policy).then((n) => (n.outbox || n.idempotencyKeys || n.oneTimeCodes || n.contactChanges) && log.info(n, 'retired rows deleted')),
      releaseGrownWards(db, policy).then((released) => released && log.info({ released }, 'wards who came of age released from their guardians')),
    ])
      .catch((err: unknown) => log.warn({ err }, 'housekeeping run failed'))
      .finally(() => (running = false));
  };
  const first = setTimeout(run, opts.firstRunMs ?? Math.random() * Math.min(60, policy.intervalSeconds) * 1000);
  const timer = setInterval(run, policy.intervalSeconds * 1000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
