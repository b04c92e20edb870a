import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/knex.ts';

/** The part of knex's pool (tarn) the gauges read. */
interface PoolCounts {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

function countsOf(db: Db): PoolCounts | undefined {
  const pool = db.client.pool as Partial<PoolCounts> | undefined;
  // Undefined once the pool is destroyed (the instance is stopping): nothing to report.
  return typeof pool?.numUsed === 'function' ? (pool as PoolCounts) : undefined;
}

/**
 * Gauges of each connection pool, read from knex's pool when scraped (nothing is counted per query):
 * connections in use, idle ones, and queries waiting for one. Waiting queries mean the pool is too small
 * for the load (or a transaction holds its connection too long); past knex's acquire timeout they fail
 * with 503.
 */
export function poolGauges(registry: Registry, pools: Readonly<Record<string, Db>>): void {
  const named = Object.entries(pools);
  const gauge = (name: string, help: string, read: (p: PoolCounts) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [pool, db] of named) {
          const counts = countsOf(db);
          if (counts) this.labels(pool).set(read(counts));
        }
      },
    });
  gauge('cybercard_db_pool_used_connections', 'Connections of the pool in use, by a request, a job or a throttle.', (p) => p.numUsed());
  gauge('cybercard_db_pool_free_connections', 'Connections of the pool open and idle.', (p) => p.numFree());
  gauge('cybercard_db_pool_pending_acquires', 'Queries waiting for a connection of the pool.', (p) => p.numPendingAcquires());
}
