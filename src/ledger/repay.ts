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
import { MAX_AMOUNT, money } from '../lib/money.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
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

/** What of a repayment tells two transfers apart, in the names of the request's fields. */
type Difference = 'account' | 'amount' | 'currency' | 'received_on';

/** The same transaction id was already used for a different repayment (another account, amount, currency or date): 409. */
export class RepaymentConflictError extends AppError {
  /** The repayment the transaction id was applied as. */
  readonly existing: Repayment;
  readonly differs: readonly Difference[];
  constructor(transactionId: string, existing: Repayment, differs: readonly Difference[]) {
    const message = `Transaction ${transactionId} was already applied (repayment ${existing.id}) with a different ${differs.join(', ').replace('received_on', 'date')}; nothing was changed.`;
    super('transaction_id_conflict', message, { status: 409, fields: { transaction_id: message } });
    this.existing = existing;
    this.differs = differs;
  }
}

export class InvalidRepaymentError extends AppError {
  constructor(message: string, field: string) {
    super('invalid_repayment', message, { status: 422, fields: { [field]: message } });
  }
}

/** Well-formed, but not in the currency the account's credit line is kept in: 422 currency. */
export class WrongCurrencyError extends InvalidRepaymentError {
  readonly accountId: string;
  readonly lineCurrency: string;
  constructor(accountId: string, lineCurrency: string) {
    super(`This account's credit line is in ${lineCurrency}.`, 'currency');
    this.accountId = accountId;
    this.lineCurrency = lineCurrency;
  }
}

/** How `seen` differs from the repayment asked for; a date one of them does not give is no difference. */
function differences(seen: Repayment, asked: { accountId: string; amount: number; currency: string; receivedOn: string | null }): Difference[] {
  const out: Difference[] = [];
  if (seen.accountId !== asked.accountId) out.push('account');
  if (seen.amount !== asked.amount) out.push('amount');
  if (seen.currency !== asked.currency) out.push('currency');
  if (seen.receivedOn && asked.receivedOn && seen.receivedOn !== asked.receivedOn) out.push('received_on');
  return out;
}

/**
 * Records a repayment in ONE transaction: cash +X, the holder's receivable −X (a balanced entry),
 * posted_balance −X under the account row lock, the repayment row, the audit entry and a message to
 * the holder. Paying more than is owed leaves a credit balance (posted_balance below zero), which
 * raises the available credit. A transaction id seen before is a duplicate and changes nothing (with
 * another account, amount, currency or date, a conflict); the id is locked (advisory) first, so two
 * imports of one transfer at once apply it once. When the payment settles an overdue statement, the
 * account's delinquency flag is cleared.
 */
export async function repay(deps: LedgerDeps, input: RepaymentInput): Promise<RepaymentOutcome> {
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0 || input.amount > MAX_AMOUNT) {
    throw new InvalidRepaymentError('The amount must be a positive whole number of minor units.', 'amount');
  }
  // The currency is checked against the credit line, under its lock: a line opened before config's currency changed is
  // repaid in its own.
  if (!/^[A-Z]{3}$/.test(input.currency)) throw new InvalidRepaymentError('The currency must be an ISO 4217 code such as KRW.', 'currency');
  // Money not yet received is no repayment (a typed year, a bank file's wrong column): it would lower what is owed now.
  if (input.receivedOn && input.receivedOn > todayIn(deps.billing.timeZone)) {
    throw new InvalidRepaymentError(`The date received cannot be after today (${todayIn(deps.billing.timeZone)} in ${deps.billing.timeZone}).`, 'received_on');
  }
  return inTransaction(deps.db, async (trx) => {
    const accountId = input.accountId ?? (input.paymentReference ? await findAccountIdByPaymentReference(trx, input.paymentReference) : undefined);
    if (!accountId) throw new NotFoundError('No account has this payment reference.', { payment_reference: 'No account has this payment reference.' });
    const txId = input.transactionId ?? null;
    if (txId !== null) {
      await lockValues(trx, [`repayment:${txId}`]);
      const seen = await findRepaymentByTransactionId(trx, txId);
      if (seen) {
        // The same transfer again (a re-imported file, a retried request) is a duplicate; anything else under its id is not.
        const differs = differences(seen, { accountId, amount: input.amount, currency: input.currency, receivedOn: input.receivedOn ?? null });
        if (differs.length) throw new RepaymentConflictError(txId, seen, differs);
        return { status: 'duplicate', repayment: seen };
      }
    }
    const line = await lockCreditLine(trx, accountId);
    if (!line) throw new NotFoundError('There is no such account.');
    // The line's own currency, not only the deployment's: posted_balance and the receivable are kept in it.
    if (line.currency !== input.currency) throw new WrongCurrencyError(accountId, line.currency);
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
    await notify(trx, recipientOf(account), 'repayment_received', {
      amount: money(input.amount, input.currency),
    });
    const restored = await restoreIfPaid(trx, accountId, deps.delinquency);
    return { status: 'applied', repayment, postedBalance: line.postedBalance - input.amount, restored };
  });
}
