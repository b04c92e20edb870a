import { appendAudit } from '../db/audit-log.ts';
import { findCard } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { deleteTotpFactor } from '../db/totp-factors.ts';
import { inTransaction } from '../db/tx.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { noSuchCard } from '../cards/no-such-card.ts';
import { signOutEverywhere } from '../cards/revoke-holder-tokens.ts';

/**
 * The operator removes a holder's authenticator app (the phone was lost; the operator has checked who is
 * asking, as for a reissue). Step-up payments are refused until the holder sets up a new one. The holder is signed out
 * everywhere: the lost phone may hold a signed-in browser. Audited, and the holder told. Returns whether there was one.
 */
export async function removeSecondFactor(
  db: Db,
  change: { cardId: string; reason: string; actor: string; requestId?: string | undefined },
): Promise<{ last4: string; removed: boolean }> {
  return inTransaction(db, async (trx) => {
    const card = await findCard(trx, change.cardId);
    if (!card) throw noSuchCard();
    const removed = await deleteTotpFactor(trx, card.accountId);
    if (removed) {
      await appendAudit(trx, {
        actor: change.actor,
        action: 'totp.removed',
        subjectType: 'account',
        subjectId: card.accountId,
        details: { cardId: card.id, reason: change.reason },
        requestId: change.requestId,
      });
      await signOutEverywhere(trx, { accountId: card.accountId, actor: change.actor, reason: 'second factor removed', requestId: change.requestId });
      await notifyHolder(trx, card.accountId, 'second_factor_removed', { last4: card.last4 });
    }
    return { last4: card.last4, removed };
  });
}
