import { lockExpiredHolds, lockExpiredHoldsOfAccount, type Approval } from '../db/approvals.ts';
import type { Db, Trx } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { money } from '../lib/money.ts';
import { queueApprovalEvent } from './approval-events.ts';
import { moveRelease, notifyHolder } from './moves.ts';

export interface ExpireOptions {
  /** Holds released per transaction. */
  batchSize?: number;
  /** Stop after this many batches (a periodic run picks up the rest next time). */
  maxBatches?: number;
  onBatch?: (released: number) => void;
}

const DEFAULT_BATCH = 100;

/**
 * Releases one expired hold (its account row and approval row locked by the caller): what it still holds goes back to
 * the holder's credit, it reads `expired` (`captured` if part of it was), the member site is told if it asked to be, and
 * the holder hears of it. Returns the amount released.
 */
async function releaseExpired(trx: Trx, approval: Approval): Promise<number> {
  const { released } = await moveRelease(
    trx,
    approval,
    { status: approval.capturedAmount > 0 ? 'captured' : 'expired', action: 'approval.expired' },
    { actor: 'system:expiry' },
  );
  await queueApprovalEvent(trx, approval.clientId, approval.approvalNo, 'expired');
  if (released > 0) {
    await notifyHolder(trx, approval, 'hold_released', { amount: money(released, approval.currency), why: 'expired' });
  }
  return released;
}

/**
 * Releases every hold not captured by its hold_expires_at, in batches of one transaction each. Each
 * batch locks its approvals and their account rows with SKIP LOCKED, so several instances (and the
 * `holds expire` command) can run at once: each hold is released exactly once, and a hold being
 * captured right now is left for the next run instead of waited for. The member site is told of each, in its batch's
 * transaction (approval-events.ts), if it asked to be. Returns how many were released.
 */
export async function expireHolds(deps: { db: Db }, opts: ExpireOptions = {}): Promise<number> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  let total = 0;
  for (let batch = 0; opts.maxBatches === undefined || batch < opts.maxBatches; batch++) {
    const n = await inTransaction(deps.db, async (trx) => {
      const due = await lockExpiredHolds(trx, batchSize);
      for (const approval of due) await releaseExpired(trx, approval);
      return due.length;
    });
    total += n;
    opts.onBatch?.(n);
    if (n < batchSize) break;
  }
  return total;
}

/**
 * Releases, inside the caller's transaction and with the account row already locked, the account's holds past their
 * expiry that the sweep has not reached yet: an expired hold is not active (capture refuses it, the API reads it
 * expired), so its credit is the holder's again now, not at the next sweep. Returns the amount released.
 */
export async function releaseExpiredHoldsOf(trx: Trx, accountId: string): Promise<number> {
  let total = 0;
  for (const approval of await lockExpiredHoldsOfAccount(trx, accountId)) total += await releaseExpired(trx, approval);
  return total;
}
