import { findAccount, type Card } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { ValidationError } from '../errors.ts';
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
export async function changePassword(deps: CardDeps, input: PasswordChange): Promise<Card> {
  const card = await proveWithPassword(deps, input.cardNumber, input.currentPassword, ['active'], { page: 'password_change', requestId: input.requestId });
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
