import { createHash } from 'node:crypto';
import type { Trx } from './knex.ts';

/** A 64-bit advisory-lock key for a string (the first 8 bytes of its SHA-256, as a signed bigint). */
export function lockKey(value: string): bigint {
  return createHash('sha256').update(value, 'utf8').digest().readBigInt64BE(0);
}

/**
 * Takes transaction-scoped advisory locks (released at commit or rollback) on these values, always in
 * ascending key order so two transactions wanting overlapping sets never deadlock. One statement for
 * all of them (one round trip): PostgreSQL evaluates a select list left to right.
 */
export async function lockValues(trx: Trx, values: readonly string[]): Promise<void> {
  const keys = [...new Set(values.map(lockKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keys.length === 0) return;
  const calls = keys.map(() => 'pg_advisory_xact_lock(?::bigint)').join(', ');
  await trx.raw(`SELECT ${calls}`, keys.map((k) => k.toString()));
}
