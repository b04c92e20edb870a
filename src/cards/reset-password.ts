import { findAccount, type Card } from '../db/cards.ts';
import { deleteHolderSessionsOfAccount } from '../db/holder-sessions.ts';
import { clearCardThrottle } from '../db/throttles.ts';
import { cardThrottleKey } from '../throttles/check-card-password.ts';
import { inTransaction } from '../db/tx.ts';
import { normalizeCardNumber } from './card-number.ts';
import { checkNewPassword } from './check-new-password.ts';
import type { CardDeps } from './deps.ts';
import type { CodeSettings } from './one-time-code.ts';
import { redeemCode } from './redeem-code.ts';
import { replacePassword } from './replace-password.ts';
import { revokeHolderTokens } from './revoke-holder-tokens.ts';

export interface PasswordReset {
  cardNumber: string;
  code: string;
  newPassword: string;
  /** The browser's device cookie id: a code asked from a known device works from it alone (redeem-code.ts). */
  deviceId?: string | undefined;
  requestId?: string | undefined;
}

/**
 * Sets a new password proven by a one-time code sent to the holder. The password policy, which knows the
 * holder's birthdate, is asked only once the code has proved the card (before, its answer would tell anyone
 * with a card number whether a guess contains the birthdate), and before the code is spent: a refused password
 * does not burn it. Whoever knew the old password may hold sessions: they all end.
 */
export async function resetPassword(deps: CardDeps & { codes: CodeSettings }, input: PasswordReset): Promise<Card> {
  const card = await redeemCode(deps, { cardNumber: input.cardNumber, purpose: 'password_reset', code: input.code, deviceId: input.deviceId }, async (trx, proved) => {
    const account = await findAccount(trx, proved.accountId);
    checkNewPassword(input.newPassword, {
      field: 'new_password',
      birthdate: account?.birthdate ?? '',
      cardNumber: normalizeCardNumber(input.cardNumber) ?? '',
    });
  });
  const passwordHash = await deps.hasher.hash(input.newPassword);
  const actor = `card:${card.id}`;
  return inTransaction(deps.db, async (trx) => {
    // A former holder's closed card takes a reset as it took the code (one-time-code.ts): its sign-in stays the limited one.
    const updated = await replacePassword(trx, { cardId: card.id, passwordHash, method: 'reset', formerHolder: true, actor, requestId: input.requestId });
    await revokeHolderTokens(trx, { accountId: card.accountId, actor, reason: 'password reset', requestId: input.requestId });
    // The holder proved themselves: the card's lockout ends, and their signed-in holder pages with it.
    const key = cardThrottleKey(deps.cardHmacKey, input.cardNumber);
    if (key) await clearCardThrottle(trx, key);
    await deleteHolderSessionsOfAccount(trx, card.accountId);
    return updated;
  });
}
