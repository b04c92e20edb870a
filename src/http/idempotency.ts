import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { claimIdempotencyKey, findIdempotencyKey, recordIdempotentAnswer, type IdempotencyOwner } from '../db/idempotency-keys.ts';
import type { Db, Trx } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError } from '../errors.ts';

/** draft-ietf-httpapi-idempotency-key-header; we accept 1–255 visible ASCII characters (no spaces). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export class IdempotencyKeyError extends AppError {
  constructor(code: 'idempotency_key_required' | 'invalid_idempotency_key' | 'idempotency_key_reused', message: string, status = 400) {
    super(code, message, { status });
  }
}

/** The request's Idempotency-Key header, required on every mutating call of the member-site API. */
export function idempotencyKeyOf(ctx: Context): string {
  const raw = ctx.req.headers['idempotency-key'];
  if (raw === undefined || raw === '') {
    throw new IdempotencyKeyError('idempotency_key_required', 'Send an Idempotency-Key header (1–255 visible ASCII characters) with every change.');
  }
  if (Array.isArray(raw) || !KEY_PATTERN.test(raw)) {
    throw new IdempotencyKeyError('invalid_idempotency_key', 'The Idempotency-Key header must be one value of 1–255 visible ASCII characters.');
  }
  return raw;
}

/**
 * The request's Idempotency-Key header where it is optional (the operator API): undefined without one, and the
 * same 400 as the member-site API for a malformed one, an empty one included (a client that sends the header meant a key).
 */
export function optionalIdempotencyKeyOf(ctx: Context): string | undefined {
  const raw = ctx.req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw) || !KEY_PATTERN.test(raw)) {
    throw new IdempotencyKeyError('invalid_idempotency_key', 'The Idempotency-Key header must be one value of 1–255 visible ASCII characters.');
  }
  return raw;
}

/** What a request asked for, as a stable hash: the same key may only ever be used for the same request. */
export function requestHash(request: Record<string, string | number | null>): string {
  const canonical = JSON.stringify(Object.keys(request).sort().map((k) => [k, request[k]]));
  return createHash('sha256').update(canonical).digest('hex');
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Runs `work` once per (owner, key): a member site's or an operator's. The key is claimed, the work done and its answer recorded
 * in ONE transaction: a crash leaves neither or both, and a failed request (any error) records
 * nothing, so it may be retried with the same key. A concurrent duplicate blocks on the unique index
 * until the first commits, then gets the first answer; the same key with another request gets 409.
 */
export async function runIdempotent(
  db: Db,
  k: IdempotencyOwner & { key: string; requestHash: string },
  work: (trx: Trx) => Promise<Answer>,
): Promise<Answer & { replayed: boolean }> {
  return inTransaction(db, async (trx) => {
    if (!(await claimIdempotencyKey(trx, k))) {
      const stored = await findIdempotencyKey(trx, k);
      if (!stored || stored.requestHash !== k.requestHash || stored.status === null) {
        throw new IdempotencyKeyError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
          409,
        );
      }
      return { status: stored.status, body: stored.response as Record<string, unknown>, replayed: true };
    }
    const answer = await work(trx);
    await recordIdempotentAnswer(trx, k, answer);
    return { ...answer, replayed: false };
  });
}
