import { lockValues } from '../db/advisory-lock.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findAccount } from '../db/cards.ts';
import { adjustCreditLine, lockCreditLine } from '../db/credit-lines.ts';
import { findPayoutByBankReference, insertPayout, type Payout } from '../db/payouts.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError, NotFoundError } from '../errors.ts';
import { formatMoney, MAX_AMOUNT, money } from '../lib/money.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import type { LedgerDeps } from './deps.ts';
import { HOUSE, post } from './post.ts';
import { InvalidRepaymentError, WrongCurrencyError } from './repay.ts';

export interface PayoutInput {
  accountId: string;
  amount: number;
  currency: string;
  /** The bank's reference of the outgoing transfer: the same again is a duplicate, not a second payout. */
  bankReference: string;
  /** Why the money goes back (kept in the audit trail). */
  reason: string;
  actor: string;
  requestId?: string | undefined;
}

export type PayoutOutcome = { status: 'paid'; payout: Payout; creditBalance: number } | { status: 'duplicate'; payout: Payout };

/** The bank reference was already booked for another payout (account, amount or currency): 409, nothing changed. */
export class PayoutConflictError extends AppError {
  readonly existing: Payout;
  constructor(bankReference: string, existing: Payout) {
    const message = `Bank reference ${bankReference} was already booked as payout ${existing.id} of ${formatMoney(existing.amount, existing.currency)} to another account or amount; nothing was changed.`;
    super('bank_reference_conflict', message, { status: 409, fields: { bank_reference: message } });
    this.existing = existing;
  }
}

/** More than the holder's credit balance (none, if they owe): 422 amount. */
export class PayoutAboveCreditError extends AppError {
  constructor(credit: number, currency: string) {
    const message = credit > 0 ? `The credit balance is ${formatMoney(credit, currency)}; no more can be paid out.` : 'This account has no credit balance to pay out.';
    super('payout_above_credit', message, { status: 422, fields: { amount: message } });
  }
}

/**
 * Pays a holder's credit balance back, in ONE transaction: under the account row lock, the receivable +X against cash
 * −X (the mirror of a repayment), posted_balance +X never above zero, the payout row, the audit entry and a message to
 * the holder. The bank reference is locked (advisory) and looked up first: the same transfer again is a duplicate and
 * changes nothing, another under its reference a conflict. Open and closed accounts alike: a closed card's credit is
 * still the holder's money.
 */
export async function payOut(deps: LedgerDeps, input: PayoutInput): Promise<PayoutOutcome> {
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0 || input.amount > MAX_AMOUNT) {
    throw new InvalidRepaymentError('The amount must be a positive whole number of minor units.', 'amount');
  }
  if (!/^[A-Z]{3}$/.test(input.currency)) throw new InvalidRepaymentError('The currency must be an ISO 4217 code such as KRW.', 'currency');
  return inTransaction(deps.db, async (trx) => {
    await lockValues(trx, [`payout:${input.bankReference}`]);
    const seen = await findPayoutByBankReference(trx, input.bankReference);
    if (seen) {
      if (seen.accountId !== input.accountId || seen.amount !== input.amount || seen.currency !== input.currency) {
        throw new PayoutConflictError(input.bankReference, seen);
      }
      return { status: 'duplicate', payout: seen };
    }
    const line = await lockCreditLine(trx, input.accountId);
    if (!line) throw new NotFoundError('There is no such account.');
    if (line.currency !== input.currency) throw new WrongCurrencyError(input.accountId, line.currency);
    // The credit is what the holder paid beyond what they owe (a negative posted balance), read under the row lock, so
    // payouts at once are served one after another and together never exceed it.
    const credit = Math.max(0, -line.postedBalance);
    if (input.amount > credit) throw new PayoutAboveCreditError(credit, line.currency);
    const account = (await findAccount(trx, input.accountId))!;
    const entryId = await post(trx, {
      kind: 'payout',
      approvalId: null,
      currency: input.currency,
      memo: `payout ${input.bankReference}`,
      legs: [
        { kind: 'receivable', ownerId: input.accountId, amount: input.amount },
        { kind: 'cash', ownerId: HOUSE, amount: -input.amount },
      ],
    });
    await adjustCreditLine(trx, input.accountId, { posted: input.amount });
    const payout = await insertPayout(trx, {
      accountId: input.accountId,
      amount: input.amount,
      currency: input.currency,
      bankReference: input.bankReference,
      reason: input.reason,
      entryId,
      actor: input.actor,
    });
    await appendAudit(trx, {
      actor: input.actor,
      action: 'payout.sent',
      subjectType: 'account',
      subjectId: input.accountId,
      details: { payoutId: payout.id, amount: input.amount, currency: input.currency, bankReference: input.bankReference, reason: input.reason },
      requestId: input.requestId,
    });
    await notify(trx, recipientOf(account), 'payout_sent', { amount: money(input.amount, input.currency) });
    return { status: 'paid', payout, creditBalance: credit - input.amount };
  });
}
