import { releaseGrownWards } from '../cards/release-grown-wards.ts';
import type { Db } from '../db/knex.ts';
import { deleteRetired, type RetentionPolicy } from '../db/retention.ts';
import type { Logger } from '../log.ts';

/** How often children who came of age are released when retention itself is off (its interval 0). */
const RELEASE_SECONDS_WITHOUT_RETENTION = 3600;

/**
 * Each instance's housekeeping: ends the guardian link of children who came of age (cards/release-grown-wards.ts),
 * and deletes retired rows (db/retention.ts) unless `intervalSeconds` is 0, soon after start, then every
 * `intervalSeconds` (hourly when retention is off). The first run comes after a random delay of up to a minute
 * (`firstRunMs` sets it), not a whole interval: instances restarted more often than that would otherwise never run it,
 * and several started together do not all run at once. A run still going when the next is due is not doubled; one
 * task failing does not stop the other. Every instance may run it: rows one run is working on, another skips.
 * Returns a function that stops it.
 */
export function startHousekeeping(
  db: Db,
  log: Logger,
  policy: RetentionPolicy & { intervalSeconds: number; adultAge: number; /** billing.timeZone: where a birthday begins. */ timeZone: string },
  opts: { firstRunMs?: number } = {},
): () => void {
  const retain = policy.intervalSeconds > 0;
  const every = retain ? policy.intervalSeconds : RELEASE_SECONDS_WITHOUT_RETENTION;
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    void Promise.allSettled([
      retain
        ? deleteRetired(db, policy).then((n) => (n.outbox || n.backchannelLogouts || n.approvalEvents || n.idempotencyKeys || n.oneTimeCodes || n.contactChanges) && log.info(n, 'retired rows deleted'))
        : Promise.resolve(),
      releaseGrownWards(db, policy).then((released) => released && log.info({ released }, 'wards who came of age released from their guardians')),
    ])
      .then((results) => {
        for (const r of results) if (r.status === 'rejected') log.warn({ err: r.reason as unknown }, 'housekeeping task failed');
      })
      .finally(() => (running = false));
  };
  const first = setTimeout(run, opts.firstRunMs ?? Math.random() * Math.min(60, every) * 1000);
  const timer = setInterval(run, every * 1000);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
