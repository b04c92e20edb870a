import { createHash } from 'node:crypto';
import type { Trx } from './knex.ts';

/** A 64-bit advisory-lock key for a string (the first 8 bytes of its SHA-256, as a signed bigint). */
export function lockKey(value: string): bigint {
  return createHash('sha256').update(value, 'utf8').digest().readBigInt64BE(0);
}

/**
 * Takes transaction-scoped advisory locks (released at commit or rollback) on these values, always in
 * ascending key order so two transactions wanting overlapping sets never deadlock.
 */
export async function lockValues(trx: Trx, values: readonly string[]): Promise<void> {
  const keys = [...new Set(values.map(lockKey))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) await trx.raw('SELECT pg_advisory_xact_lock(?::bigint)', [key.toString()]);
}
