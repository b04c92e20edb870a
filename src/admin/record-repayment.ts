import type { Db } from '../db/knex.ts';
import { requestHash, runIdempotent, type Answer } from '../http/idempotency.ts';
import type { LedgerDeps } from '../ledger/deps.ts';
import { repay, type RepaymentInput } from '../ledger/repay.ts';
import type { z } from 'zod';
import type { repaymentInput } from './ledger-inputs.ts';

/** A repayment as an operator asks for it (repaymentInput, parsed), the account already found when it names a card. */
export type OperatorRepayment = Omit<z.output<typeof repaymentInput>, 'card_id'> & { card_id?: string | undefined };

export interface RepaymentRequester {
  /** The account of the card named, or the payment reference's (repay resolves that). */
  target: { accountId: string } | { paymentReference: string | undefined };
  actor: string;
  requestId?: string | undefined;
  /** The operator's Idempotency-Key (the API's header, the console form's one-time key), or none. */
  key?: string | undefined;
}

/**
 * What repay() is given for a repayment an operator typed (the API, the console's form, the CLI), but for its account:
 * the fields as sent, the deployment's currency unless one is named, the operator as its actor.
 */
export function operatorRepayment(
  input: Pick<OperatorRepayment, 'amount' | 'currency' | 'transaction_id' | 'received_on' | 'memo'>,
  currency: string,
  by: { actor: string; requestId?: string | undefined },
): Omit<RepaymentInput, 'accountId' | 'paymentReference'> {
  return {
    amount: input.amount,
    currency: input.currency ?? currency,
    transactionId: input.transaction_id ?? null,
    receivedOn: input.received_on ?? null,
    memo: input.memo ?? '',
    source: 'operator',
    actor: by.actor,
    requestId: by.requestId,
  };
}

/**
 * One repayment recorded by an operator, for the operator API (POST /admin/api/ledger/repayments) and the console's
 * form alike: repay, its answer, and with a key the once-only run of http/idempotency.ts (the key checked before anything
 * runs, the repayment and its answer committed together; the same key and body again answer the first answer, the same
 * key with another body 409). Keys are the operator's own (scoped to the actor the audit trail names).
 */
export async function recordOperatorRepayment(ledger: LedgerDeps, input: OperatorRepayment, by: RepaymentRequester): Promise<Answer & { replayed: boolean }> {
  const apply = async (db: Db): Promise<Answer> => {
    const done = await repay({ ...ledger, db }, { ...by.target, ...operatorRepayment(input, ledger.currency, by) });
    const r = done.repayment;
    return {
      status: done.status === 'applied' ? 201 : 200,
      body: {
        status: done.status,
        repayment: { id: r.id, account_id: r.accountId, amount: r.amount, currency: r.currency, transaction_id: r.transactionId, recorded_at: r.createdAt.toISOString() },
        ...(done.status === 'applied' ? { balance: done.postedBalance, restored: done.restored } : {}),
      },
    };
  };
  // The body as sent (after validation's normalising, before defaults): another field, even one naming the default, is another request.
  const asked = {
    op: 'repayment',
    card_id: input.card_id ?? null,
    payment_reference: input.payment_reference ?? null,
    amount: input.amount,
    currency: input.currency ?? null,
    transaction_id: input.transaction_id ?? null,
    received_on: input.received_on ?? null,
    memo: input.memo ?? null,
  };
  if (by.key === undefined) return { ...(await apply(ledger.db)), replayed: false };
  return runIdempotent(ledger.db, { actor: by.actor, key: by.key, requestHash: requestHash(asked) }, apply);
}
