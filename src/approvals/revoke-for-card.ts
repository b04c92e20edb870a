import { lockApproval, openApprovalsForCard, type Approval } from '../db/approvals.ts';
import { findCard } from '../db/cards.ts';
import { lockCreditLine } from '../db/credit-lines.ts';
import type { Trx } from '../db/knex.ts';
import { queueApprovalEvent } from './approval-events.ts';
import { moveRelease } from './moves.ts';

/**
 * Releases every open hold made with a card and marks those approvals `revoked` (with `reason`), inside
 * the caller's transaction — the lost-card block calls it in its own. The account row is locked before
 * the open approvals are read, so an approval committed on the card just before cannot be missed, and
 * one attempted after waits for this transaction and then finds the card blocked. Any part already
 * captured stays captured (and refundable). Each approval's member site is told (approval-events.ts), if it asked to be.
 * Returns the revoked approvals.
 */
export async function revokeOpenApprovalsForCard(
  trx: Trx,
  cardId: string,
  reason: string,
  ctx: { actor?: string; requestId?: string | undefined } = {},
): Promise<Approval[]> {
  const card = await findCard(trx, cardId);
  if (!card) return [];
  await lockCreditLine(trx, card.accountId);
  const revoked: Approval[] = [];
  for (const open of await openApprovalsForCard(trx, cardId)) {
    const approval = await lockApproval(trx, open.id);
    if (!approval || approval.status !== 'approved') continue;
    const { approval: done } = await moveRelease(
      trx,
      approval,
      { status: 'revoked', action: 'approval.revoked', reason },
      { actor: ctx.actor ?? 'system:revoke', requestId: ctx.requestId },
    );
    await queueApprovalEvent(trx, done.clientId, done.approvalNo, 'revoked');
    revoked.push(done);
  }
  return revoked;
}
