import { appendAudit } from '../db/audit-log.ts';
import { findAccount, findCard, lockAccount, lowerWardLimits, setCreditLimit } from '../db/cards.ts';
import type { Db, Trx } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { MAX_AMOUNT } from '../lib/money.ts';
import { noSuchCard } from './no-such-card.ts';

export interface LimitChange {
  cardId: string;
  /** Integer minor units of the account's currency, ≥ 0. */
  creditLimit: number;
  actor: string;
  reason: string;
  requestId?: string | undefined;
}

export interface LimitChanged {
  accountId: string;
  currency: string;
  from: number;
  to: number;
  /** False when the limit was `to` already: nothing was written (no audit entry, no child lowered). */
  changed: boolean;
  /** The guardian's children whose limits came down with it (a child's never exceeds the guardian's), each with its former limit. */
  lowered: Array<{ accountId: string; legalName: string; from: number; to: number }>;
}

/**
 * Sets the credit limit of the card's holder account (the limit belongs to the account, so it survives
 * reissue). A minor's limit may not exceed the guardian's, so a guardian's lowered limit lowers their minors' above
 * it too, each audited and returned, so the operator is told whose changed. Lowering below what is used is allowed: it
 * only stops new approvals. The guardian's account is locked before the minor's, always in that order. A limit set to
 * what it is already changes nothing and records nothing (changed: false), as a repeated status change does: a child's
 * never exceeds it, so none would come down either.
 */
export async function changeLimit(db: Db, input: LimitChange): Promise<LimitChanged> {
  return inTransaction(db, (trx) => changeLimitIn(trx, input));
}

/** changeLimit inside the caller's transaction, for a caller that writes more with the change (a notice). */
export async function changeLimitIn(trx: Trx, input: LimitChange): Promise<LimitChanged> {
  if (!Number.isSafeInteger(input.creditLimit) || input.creditLimit < 0 || input.creditLimit > MAX_AMOUNT) {
    throw new ValidationError(`The limit must be a whole number of minor units from 0 to ${MAX_AMOUNT}.`, { credit_limit: `Whole number from 0 to ${MAX_AMOUNT}.` });
  }
  const card = await findCard(trx, input.cardId);
  if (!card) throw noSuchCard();
  const guardianId = (await findAccount(trx, card.accountId))?.guardianAccountId;
  const guardian = guardianId ? await lockAccount(trx, guardianId) : undefined;
  const account = await lockAccount(trx, card.accountId);
  if (!account) throw new NotFoundError('There is no such account.');
  if (guardian && input.creditLimit > guardian.creditLimit) {
    throw new ValidationError("A minor's limit cannot exceed the guardian's.", {
      credit_limit: `At most ${guardian.creditLimit} (the guardian's limit).`,
    });
  }
  if (account.creditLimit === input.creditLimit) {
    return { accountId: account.id, currency: account.currency, from: account.creditLimit, to: input.creditLimit, changed: false, lowered: [] };
  }
  await setCreditLimit(trx, account.id, input.creditLimit);
  await appendAudit(trx, {
    actor: input.actor,
    action: 'account.credit_limit_changed',
    subjectType: 'account',
    subjectId: account.id,
    details: { cardId: card.id, from: account.creditLimit, to: input.creditLimit, currency: account.currency, reason: input.reason },
    requestId: input.requestId,
  });
  const lowered = await lowerWardLimits(trx, account.id, input.creditLimit);
  for (const ward of lowered) {
    await appendAudit(trx, {
      actor: input.actor,
      action: 'account.credit_limit_changed',
      subjectType: 'account',
      subjectId: ward.id,
      details: { from: ward.from, to: input.creditLimit, currency: account.currency, reason: "the guardian's limit was lowered" },
      requestId: input.requestId,
    });
  }
  return {
    accountId: account.id,
    currency: account.currency,
    from: account.creditLimit,
    to: input.creditLimit,
    changed: true,
    lowered: lowered.map((w) => ({ accountId: w.id, legalName: w.legalName, from: w.from, to: input.creditLimit })),
  };
}
