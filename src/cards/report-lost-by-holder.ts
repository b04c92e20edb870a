import { AppError } from '../errors.ts';
import type { CardDeps } from './deps.ts';
import type { CodeSettings } from './one-time-code.ts';
import { proveWithPassword } from './prove-with-password.ts';
import { redeemCode } from './redeem-code.ts';
import { reportLost } from './report-lost.ts';

/** A closed card's right password on the lost-card page: the card works nowhere, and its password signs in to what is owed. */
export class ClosedCardLostError extends AppError {
  constructor() {
    super('card_closed', 'This card is closed: it works nowhere any more, so there is nothing to block. Its password still signs you in to your card pages, to see and pay what you owe.', { status: 403 });
  }
}

export type LostProof = { cardNumber: string; password: string } | { cardNumber: string; code: string; deviceId?: string | undefined };

/**
 * The holder's "report my card lost": proven by the card password, or by a one-time code sent to the
 * registered email or mobile. Reporting a card that is already lost again is not an error. A card the operator
 * suspended is the operator's to report: lost, the holder could reissue it, round the block.
 */
export async function reportLostByHolder(
  deps: CardDeps & { codes: CodeSettings },
  proof: LostProof,
  requestId?: string,
): Promise<{ last4: string; alreadyLost: boolean }> {
  const card =
    'password' in proof
      ? await proveWithPassword(deps, proof.cardNumber, proof.password, ['active', 'lost'], { page: 'lost_card', requestId }, () => new ClosedCardLostError())
      : await redeemCode(deps, { cardNumber: proof.cardNumber, purpose: 'lost_card', code: proof.code, deviceId: proof.deviceId });
  if (card.status === 'lost') return { last4: card.last4, alreadyLost: true };
  // Another report (a double click, a second device) may get there first: the card is lost, as asked.
  const lost = await reportLost(deps.db, {
    cardId: card.id,
    actor: `card:${card.id}`,
    reason: 'reported lost by the holder',
    proof: 'password' in proof ? 'password' : 'code',
    requestId,
  });
  return { last4: lost.card.last4, alreadyLost: !lost.changed };
}
