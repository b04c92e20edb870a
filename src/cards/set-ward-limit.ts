import { findAccount, listCardsOfAccount, lockAccount } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { formatMoney } from '../lib/money.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { changeLimitIn, type LimitChanged } from './change-limit.ts';
import type { CardDeps } from './deps.ts';
import { proveSignedInCard } from './prove-with-password.ts';

export interface WardLimitRequest {
  /** The signed-in guardian's account and card, whose password is typed again: a session may be old. */
  guardianAccountId: string;
  guardianCardId: string;
  password: string;
  wardAccountId: string;
  /** Integer minor units, from 0 (the child's payments stop) to the guardian's own limit. */
  creditLimit: number;
  requestId?: string | undefined;
}

/** The reason a guardian's change of a child's limit is audited with (the child's activity says who made it). */
export const SET_BY_GUARDIAN = 'set by the guardian';

/** The same answer for an account that does not exist and for one that is not the guardian's ward: nothing leaks. */
export const NOT_A_WARD = 'There is no such card among those linked to yours.';

/**
 * A guardian sets the credit limit of a minor linked to their account, from 0 up to their own limit and the deployment's
 * cap for minors, proving it is
 * them with their card password (the caller counts a wrong one: CardPasswordError). Through changeLimit, audited with
 * the guardian as actor; the minor is told (not of a limit they had already). A limit of 0 stops the minor's payments, not their sign-ins. The guardian's
 * account is locked before the minor's, as changeLimit locks them, so a concurrent change of the guardian's limit
 * cannot slip between the check and the change.
 */
export async function setWardLimit(deps: Pick<CardDeps, 'db' | 'hasher'> & { minorCap: number }, req: WardLimitRequest): Promise<LimitChanged> {
  const ward = await findAccount(deps.db, req.wardAccountId);
  if (!ward || ward.guardianAccountId !== req.guardianAccountId) throw new NotFoundError(NOT_A_WARD);
  await proveSignedInCard(deps, {
    cardId: req.guardianCardId,
    accountId: req.guardianAccountId,
    password: req.password,
    via: { page: 'child_limit', requestId: req.requestId },
  });
  const wardCard = (await listCardsOfAccount(deps.db, ward.id)).at(-1);
  if (!wardCard) throw new NotFoundError(NOT_A_WARD);

  return inTransaction(deps.db, async (trx) => {
    const guardian = await lockAccount(trx, req.guardianAccountId);
    if (!guardian) throw new NotFoundError(NOT_A_WARD);
    // Still a ward, under its row lock: a coming-of-age release may have ended the link since the look above.
    if ((await lockAccount(trx, ward.id))?.guardianAccountId !== guardian.id) throw new NotFoundError(NOT_A_WARD);
    if (req.creditLimit > guardian.creditLimit) {
      throw new ValidationError("A child's limit cannot be above your own.", {
        credit_limit: `At most your own limit, ${formatMoney(guardian.creditLimit, guardian.currency)}.`,
      });
    }
    // The deployment's cap for a minor's card (cards.creditLimit.minor) holds for the guardian too; the operator may go past it.
    if (req.creditLimit > deps.minorCap) {
      throw new ValidationError("A child's limit cannot be above the most a minor's card may have.", {
        credit_limit: `At most ${formatMoney(deps.minorCap, guardian.currency)}, the most a minor's card may have.`,
      });
    }
    const changed = await changeLimitIn(trx, {
      cardId: wardCard.id,
      creditLimit: req.creditLimit,
      actor: `guardian:${guardian.id}`,
      reason: SET_BY_GUARDIAN,
      requestId: req.requestId,
    });
    // The limit the child has already: nothing changed, so nothing to tell.
    if (!changed.changed) return changed;
    await notifyHolder(trx, ward.id, 'limit_set_by_guardian', { last4: wardCard.last4, amount: changed.to, previous: changed.from, currency: changed.currency });
    return changed;
  });
}
