import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/knex.ts';
import { outboxBacklog, type OutboxBacklog } from '../db/outbox.ts';
import type { Logger } from '../log.ts';

/** How long a scrape waits for the outbox's backlog (no free connection, a locked table) before answering without it. */
const READ_WAIT_MS = 2000;

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * cybercard_outbox_pending and cybercard_outbox_oldest_pending_seconds, read from PostgreSQL when scraped
 * (db/outbox.ts: one indexed pass over the pending rows). Every instance reads the same table, so every
 * instance reports the same figures. When the read fails or takes too long, both read NaN (unknown, not
 * an empty outbox), a warning is logged, and the rest of the scrape is served as usual.
 */
export function outboxGauges(registry: Registry, db: Db, log: Logger): void {
  // One read serves both gauges (a registry collects its metrics at once), and a read still under way (waiting for
  // a connection) serves the next scrape too, rather than a second read queueing behind it.
  let reading: Promise<OutboxBacklog> | undefined;
  let scrape: Promise<OutboxBacklog | undefined> | undefined;
  const backlog = (): Promise<OutboxBacklog | undefined> =>
    (scrape ??= within((reading ??= outboxBacklog(db).finally(() => (reading = undefined))), READ_WAIT_MS)
      .catch((err: unknown) => {
        log.warn({ err }, 'outbox backlog not read: its gauges read NaN in this scrape');
        return undefined;
      })
      .finally(() => (scrape = undefined)));

  new Gauge({
    name: 'cybercard_outbox_pending',
    help: 'Notifications still to be sent (due, or backing off before another attempt); the same on every instance.',
    registers: [registry],
    async collect() {
      this.set((await backlog())?.pending ?? NaN);
    },
  });
  new Gauge({
    name: 'cybercard_outbox_oldest_pending_seconds',
    help: 'Age of the oldest notification still to be sent, 0 when none is; the same on every instance.',
    registers: [registry],
    async collect() {
      this.set((await backlog())?.oldestPendingSeconds ?? NaN);
    },
  });
}
