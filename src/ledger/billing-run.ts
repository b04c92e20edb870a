import { lockValues } from '../db/advisory-lock.ts';
import { closeStatementsBatch, nextAccountIds } from '../db/statements.ts';
import { inTransaction } from '../db/tx.ts';
import { ValidationError } from '../errors.ts';
import type { LedgerDeps } from './deps.ts';
import { isCalendarDate, todayIn } from './calendar.ts';

export interface BillingProgress {
  /** Accounts looked at so far (due or not). */
  scanned: number;
  statements: number;
  lines: number;
  seconds: number;
}

export interface BillingRunOptions {
  /** YYYY-MM-DD; default today in the billing time zone. Each account closes its latest statement day on or before it. */
  date?: string;
  /**
   * Close periods at this instant instead of midnight starting the statement date (back-fills and
   * tests). Never later than now less billing.settleSeconds, so nothing still in flight is missed.
   */
  cutoff?: Date;
  batchSize?: number;
  onProgress?: (p: BillingProgress) => void;
}

/** Serialises the batches of concurrent runs (several instances, or the CLI beside the server). */
const RUN_LOCK = 'ledger:billing-run';

/**
 * The billing run: walks every account in keyset-paginated batches (memory stays flat however many
 * there are) and closes each due account's period into a statement, one transaction per batch.
 * Idempotent and resumable: a statement is unique per account and statement date, and a batch commits
 * whole or not at all, so a run killed half-way and run again writes each missing statement exactly
 * once. Concurrent runs take turns batch by batch on an advisory lock; the unique key backs it up.
 */
export async function billingRun(deps: LedgerDeps, opts: BillingRunOptions = {}): Promise<BillingProgress & { date: string }> {
  const { timeZone, dueDays, settleSeconds } = deps.billing;
  const date = opts.date ?? todayIn(timeZone);
  if (!isCalendarDate(date)) throw new ValidationError('The billing date must be a real date, YYYY-MM-DD.', { date: 'Not a date.' });
  if (date > todayIn(timeZone)) throw new ValidationError('A billing run cannot close a date in the future.', { date: `After today (${todayIn(timeZone)}).` });
  if (opts.cutoff && opts.cutoff.getTime() > Date.now() - settleSeconds * 1000) {
    throw new ValidationError('The cutoff must be at least billing.settleSeconds in the past.', { cutoff: 'Too recent.' });
  }
  const batchSize = opts.batchSize ?? deps.billing.batchSize;
  const started = performance.now();
  const totals = { scanned: 0, statements: 0, lines: 0, seconds: 0 };
  let after: string | null = null;
  for (;;) {
    const ids = await nextAccountIds(deps.db, after, batchSize);
    if (ids.length === 0) break;
    const batch = { date, cutoff: opts.cutoff ?? null, timeZone, dueDays, settleSeconds };
    const done = await inTransaction(deps.db, async (trx) => {
      await lockValues(trx, [RUN_LOCK]);
      return closeStatementsBatch(trx, { ...batch, accountIds: ids, locks: 'skip' });
    });
    // An account a payment held meanwhile is closed on its own once the payment commits (db/statements.ts), waiting
    // for its row alone: holding no other account's row, the run cannot be one of a deadlock's two sides.
    for (const id of done.busy) {
      const alone = await inTransaction(deps.db, async (trx) => {
        await lockValues(trx, [RUN_LOCK]);
        return closeStatementsBatch(trx, { ...batch, accountIds: [id], locks: 'wait' });
      });
      done.statements += alone.statements;
      done.lines += alone.lines;
    }
    after = ids[ids.length - 1]!;
    totals.scanned += ids.length;
    totals.statements += done.statements;
    totals.lines += done.lines;
    totals.seconds = (performance.now() - started) / 1000;
    opts.onProgress?.({ ...totals });
    if (ids.length < batchSize) break;
  }
  totals.seconds = (performance.now() - started) / 1000;
  return { date, ...totals };
}
