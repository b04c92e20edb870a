import { collectDefaultMetrics, Registry } from 'prom-client';
import type { PasswordHasher } from '../cards/password.ts';
import type { Db } from '../db/knex.ts';
import type { EventCounts } from '../lib/event-counts.ts';
import type { Logger } from '../log.ts';
import { eventCounters } from './event-counters.ts';
import { httpRequests, type RequestRecorder } from './http-requests.ts';
import { outboxGauges } from './outbox-gauges.ts';
import { poolGauges } from './pool-gauges.ts';
import { timedHasher } from './timed-hasher.ts';

export interface MetricsDeps {
  /** The instance's connection pools by name (`main`, `throttles`): how they are used is read at each scrape. */
  pools: Readonly<Record<string, Db>>;
  /** Where the outbox's backlog is read at each scrape: the pool itself, never a request's transaction. */
  db: Db;
  log: Logger;
}

export interface Metrics {
  /** What GET /metrics serves. */
  registry: Registry;
  /** Counts and times each HTTP request (http/request-metrics.ts). */
  requests: RequestRecorder;
  /** The password hasher, each hash and verify timed (no change to the cards domain). */
  timeHasher(hasher: PasswordHasher): PasswordHasher;
  /** Domain events (approvals, failed checks, lockouts, throttled attempts, notifications), counted. */
  counts: EventCounts;
}

/**
 * This instance's metrics, in a registry of its own rather than prom-client's global one: several card
 * managers may share a process (the tests build many), and each must count only its own. Node's process
 * metrics (CPU, memory, event-loop lag, GC) go in it too, under the same prefix.
 */
export function createMetrics({ pools, db, log }: MetricsDeps): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cybercard_' });
  poolGauges(registry, pools);
  outboxGauges(registry, db, log);
  return { registry, requests: httpRequests(registry), timeHasher: (hasher) => timedHasher(hasher, registry), counts: eventCounters(registry) };
}
