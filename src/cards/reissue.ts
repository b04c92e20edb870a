import { appendAudit } from '../db/audit-log.ts';
import { accountHasLaterCard, accountHasOtherOpenCard, findAccount, insertCardUnlessNumberTaken, lockCard, type CardStatus } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError } from '../errors.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import type { CardDeps } from './deps.ts';
import { insertWithFreshNumber } from './issue-card.ts';
import { generatePassword } from './password.ts';
import { revokeHolderTokens } from './revoke-holder-tokens.ts';
import { transition } from './transition.ts';
import { noSuchCard } from './no-such-card.ts';

export interface ReissueInput {
  cardId: string;
  actor: string;
  reason: string;
  requestId?: string | undefined;
  /** Statuses the old card may be in. The holder may not reissue around an operator's block. */
  allowedFrom?: readonly CardStatus[];
  /**
   * The holder's reissue: a card replaced once is never replaced again, whatever became of its replacement
   * (an operator may have closed it; reissuing the old lost card would undo that).
   */
  once?: boolean;
}

export interface Reissued {
  accountId: string;
  oldCardId: string;
  cardId: string;
  /** The full new number: returned once, never stored. */
  cardNumber: string;
  /** The new password: returned once, never stored. */
  password: string;
}

/** The statuses an operator may reissue a card from (a pending one is still in the review queue, a closed one gone). */
export const REISSUABLE: readonly CardStatus[] = ['active', 'suspended', 'lost'];

/**
 * A new number and password for the same holder account, so credit line, balance, statements and history
 * stay where they are. The old card is closed (a lost one stays lost); either way it never logs in again.
 */
export async function reissue(deps: CardDeps, input: ReissueInput): Promise<Reissued> {
  const password = generatePassword();
  const passwordHash = await deps.hasher.hash(password);
  const allowed = input.allowedFrom ?? REISSUABLE;
  const by = { actor: input.actor, requestId: input.requestId };

  return inTransaction(deps.db, async (trx) => {
    const old = await lockCard(trx, input.cardId);
    if (!old) throw noSuchCard();
    if (!allowed.includes(old.status)) throw new ConflictError(`A ${old.status} card cannot be reissued.`);
    if (await accountHasOtherOpenCard(trx, old.accountId, old.id)) throw new ConflictError('This card has already been replaced.');
    if (input.once && (await accountHasLaterCard(trx, old.accountId, old.id))) throw new ConflictError('This card has already been replaced.');
    const account = await findAccount(trx, old.accountId);
    if (!account) throw new Error(`card ${old.id} has no account`);

    if (old.status !== 'lost') {
      await transition(trx, { ...by, cardId: old.id, to: 'closed', reason: `replaced: ${input.reason}` });
      await revokeHolderTokens(trx, { ...by, accountId: account.id, reason: 'card replaced' });
    }
    // Drawn and inserted in one step: a number taken meanwhile by another transaction is drawn again.
    const { cardId, cardNumber, last4 } = await insertWithFreshNumber(deps, password, (d) =>
      insertCardUnlessNumberTaken(trx, { id: d.cardId, accountId: account.id, numberHmac: d.numberHmac, last4: d.last4, passwordHash, status: 'pending' }),
    );
    await appendAudit(trx, {
      ...by,
      action: 'card.issued',
      subjectType: 'card',
      subjectId: cardId,
      details: { accountId: account.id, last4, replaces: old.id },
    });
    await transition(trx, { ...by, cardId, to: 'active', reason: `reissued: ${input.reason}` });
    await appendAudit(trx, {
      ...by,
      action: 'card.reissued',
      subjectType: 'card',
      subjectId: old.id,
      details: { accountId: account.id, newCardId: cardId, newLast4: last4, reason: input.reason },
    });
    await notify(trx, recipientOf(account), 'card_reissued', {
      last4,
      oldLast4: old.last4,
    });
    return { accountId: account.id, oldCardId: old.id, cardId, cardNumber, password };
  });
}
