import type { CardDeps } from './deps.ts';
import type { CodeSettings } from './one-time-code.ts';
import { redeemCode } from './redeem-code.ts';
import { reissue, type Reissued } from './reissue.ts';

/**
 * The holder's reissue, proven only by a one-time code to the registered email or mobile: the card
 * password is not enough, or whoever stole number and password could take the account over with a fresh card.
 */
export async function reissueByHolder(
  deps: CardDeps & { codes: CodeSettings },
  proof: { cardNumber: string; code: string; deviceId?: string | undefined },
  requestId?: string,
): Promise<Reissued> {
  const card = await redeemCode(deps, { cardNumber: proof.cardNumber, purpose: 'reissue', code: proof.code, deviceId: proof.deviceId });
  return reissue(deps, {
    cardId: card.id,
    actor: `card:${card.id}`,
    reason: 'requested by the holder',
    requestId,
    allowedFrom: ['active', 'lost'],
    once: true,
  });
}
