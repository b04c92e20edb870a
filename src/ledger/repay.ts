import { todayIn } from './calendar.ts';
import { lockValues } from '../db/advisory-lock.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findAccount } from '../db/cards.ts';
import { adjustCreditLine, lockCreditLine } from '../db/credit-lines.ts';
import {
  findAccountIdByPaymentReference,
  findRepaymentByTransactionId,
  insertRepayment,
  type Repayment,
  type RepaymentSource,
} from '../db/repayments.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError, NotFoundError } from '../errors.ts';
import { formatMoney, MAX_AMOUNT } from '../lib/money.ts';
import { notify } from '../notifications/notify.ts';
import { restoreIfPaid } from './delinquency.ts';
import type { LedgerDeps } from './deps.ts';
import { HOUSE, post } from './post.ts';

export interface RepaymentInput {
  /** The holder account, or … */
  accountId?: string | undefined;
  /** … its payment reference (already normalised). */
  paymentReference?: string | undefined;
  amount: number;
  currency: string;
  /** The bank's (or operator's) transaction id: a second repayment with it is a duplicate, not a payment. */
  transactionId?: string | null | undefined;
  receivedOn?: string | null | undefined;
  memo?: string | undefined;
  source: RepaymentSource;
  actor: string;
  requestId?: string | undefined;
}

export type RepaymentOutcome =
  | { status: 'applied'; repayment: Repayment; postedBalance: number; restored: boolean }
  | { status: 'duplicate'; repayment: Repayment };

/** The same transaction id was already used for a different repayment (another account or amount): 409. */
export class RepaymentConflictError extends AppError {
  constructor(transactionId: string) {
    super('transaction_id_conflict', `Transaction ${transactionId} was already applied with a different account, amount or currency; nothing was changed.`, {
      status: 409,
    });
  }
}

export class InvalidRepaymentError extends AppError {
  constructor(message: string, field: string) {
    super('invalid_repayment', message, { status: 422, fields: { [field]: message } });
  }
}

/**
 * Records a repayment in ONE transaction: cash +X, the holder's receivable −X (a balanced entry),
 * posted_balance −X under the account row lock, the repayment row, the audit entry and a message to
 * the holder. Paying more than is owed leaves a credit balance (posted_balance below zero), which
 * raises the available credit. A transaction id seen before is a duplicate and changes nothing; the
 * id is locked (advisory) first, so two imports of one transfer at once apply it once. When the
 * payment settles an overdue statement, the account's delinquency flag is cleared.
 */
export async function repay(deps: LedgerDeps, input: RepaymentInput): Promise<RepaymentOutcome> {
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0 || input.amount > MAX_AMOUNT) {
    throw new InvalidRepaymentError('amount must be a positive whole number of minor units.', 'amount');
  }
  // The currency is checked against the credit line, under its lock: a line opened before config's currency changed is
  // repaid in its own.
  if (!/^[A-Z]{3}$/.test(input.currency)) throw new InvalidRepaymentError('currency must be an ISO 4217 code such as KRW.', 'currency');
  // Money not yet received is no repayment (a typed year, a bank file's wrong column): it would lower what is owed now.
  if (input.receivedOn && input.receivedOn > todayIn(deps.billing.timeZone)) {
    throw new InvalidRepaymentError(`received_on cannot be after today (${todayIn(deps.billing.timeZone)} in ${deps.billing.timeZone}).`, 'received_on');
  }
  return inTransaction(deps.db, async (trx) => {
    const accountId = input.accountId ?? (input.paymentReference ? await findAccountIdByPaymentReference(trx, input.paymentReference) : undefined);
    if (!accountId) throw new NotFoundError('No account has this payment reference.');
    const txId = input.transactionId ?? null;
    if (txId !== null) {
      await lockValues(trx, [`repayment:${txId}`]);
      const seen = await findRepaymentByTransactionId(trx, txId);
      if (seen) {
        if (seen.accountId !== accountId || seen.amount !== input.amount || seen.currency !== input.currency) throw new RepaymentConflictError(txId);
        return { status: 'duplicate', repayment: seen };
      }
    }
    const line = await lockCreditLine(trx, accountId);
    if (!line) throw new NotFoundError('There is no such account.');
    // The line's own currency, not only the deployment's: posted_balance and the receivable are kept in it.
    if (line.currency !== input.currency) throw new InvalidRepaymentError(`This account's credit line is in ${line.currency}.`, 'currency');
    const account = (await findAccount(trx, accountId))!;
    const entryId = await post(trx, {
      kind: 'repayment',
      approvalId: null,
      currency: input.currency,
      memo: txId ? `repayment ${txId}` : 'repayment',
      legs: [
        { kind: 'cash', ownerId: HOUSE, amount: input.amount },
        { kind: 'receivable', ownerId: accountId, amount: -input.amount },
      ],
    });
    await adjustCreditLine(trx, accountId, { posted: -input.amount });
    const repayment = await insertRepayment(trx, {
      accountId,
      amount: input.amount,
      currency: input.currency,
      source: input.source,
      transactionId: txId,
      paymentReference: input.paymentReference ?? null,
      receivedOn: input.receivedOn ?? null,
      memo: input.memo ?? '',
      entryId,
      actor: input.actor,
    });
    await appendAudit(trx, {
      actor: input.actor,
      action: 'repayment.recorded',
      subjectType: 'account',
      subjectId: accountId,
      details: { repaymentId: repayment.id, amount: input.amount, currency: input.currency, transactionId: txId, source: input.source },
      requestId: input.requestId,
    });
    await notify(trx, { accountId, email: account.email, mobile: account.mobile }, 'repayment_received', {
      amount: formatMoney(input.amount, input.currency),
    });
    const restored = await restoreIfPaid(trx, accountId, deps.delinquency);
    return { status: 'applied', repayment, postedBalance: line.postedBalance - input.amount, restored };
  });
}
