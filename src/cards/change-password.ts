import { findAccount, type Card } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError, ValidationError } from '../errors.ts';
import { normalizeCardNumber } from './card-number.ts';
import { checkNewPassword } from './check-new-password.ts';
import type { CardDeps } from './deps.ts';
import { proveWithPassword } from './prove-with-password.ts';
import { replacePassword } from './replace-password.ts';
import { signOutEverywhere } from './revoke-holder-tokens.ts';

export interface PasswordChange {
  cardNumber: string;
  currentPassword: string;
  newPassword: string;
  requestId?: string | undefined;
}

/**
 * The holder, knowing the current password, sets a new one (subject to the password policy). A holder who
 * changes it may suspect someone else knows the old one: every session and token it opened ends, as on a reset.
 */
/** A closed card's right password on the password page: the card is closed, and its password signs in to what is owed. */
export class ClosedCardPasswordError extends AppError {
  constructor() {
    super('card_closed', 'This card is closed: change its password with a code sent to you instead. It still signs you in to your card pages, to see and pay what you owe.', { status: 403 });
  }
}

export async function changePassword(deps: CardDeps, input: PasswordChange): Promise<Card> {
  const via = { page: 'password_change', requestId: input.requestId } as const;
  const card = await proveWithPassword(deps, input.cardNumber, input.currentPassword, ['active'], via, () => new ClosedCardPasswordError());
  const account = await findAccount(deps.db, card.accountId);
  if (input.newPassword === input.currentPassword) {
    throw new ValidationError('Choose a new password.', { new_password: 'This is the current password.' });
  }
  checkNewPassword(input.newPassword, {
    field: 'new_password',
    birthdate: account?.birthdate ?? '',
    cardNumber: normalizeCardNumber(input.cardNumber) ?? '',
  });
  const passwordHash = await deps.hasher.hash(input.newPassword);
  const actor = `card:${card.id}`;
  return inTransaction(deps.db, async (trx) => {
    const changed = await replacePassword(trx, { cardId: card.id, passwordHash, expectHash: card.passwordHash, method: 'change', actor, requestId: input.requestId });
    await signOutEverywhere(trx, { accountId: card.accountId, actor, reason: 'password changed', requestId: input.requestId });
    return changed;
  });
}
