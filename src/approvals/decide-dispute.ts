import { lockDispute, findDispute, recordDecision, type DisputeWithPayment } from '../db/disputes.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findCard } from '../db/cards.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError } from '../errors.ts';
import { formatMoney, money } from '../lib/money.ts';
import type { DisputeDeps } from './open-dispute.ts';
import { DisputeStateError, InvalidAmountError } from './errors.ts';
import { queueApprovalEvent } from './approval-events.ts';
import { lockForChange } from './lock-for-change.ts';
import { moveRefund, moveVoid, notifyHolder, remainingHold } from './moves.ts';

export interface DecideDisputeRequest {
  disputeId: string;
  /** refund: the holder is paid back (and whatever is still held released); reject: nothing moves. */
  decision: 'refund' | 'reject';
  /** Minor units of the captured money to refund; omitted: all of it not refunded yet. Only with `refund`. */
  amount?: number | undefined;
  /** Told to the holder; required to reject (the holder is owed a reason). */
  note: string | null;
  actor: string;
  requestId?: string | undefined;
}

export const NO_SUCH_DISPUTE = 'No such report.';

/**
 * The operator's decision on a holder's report of a payment, in one transaction under the account's, the
 * approval's and then the report's row locks. `refund` releases what the payment still holds and refunds what
 * was captured (all of it, or `amount` of it), through the same balanced moves as a member site's void and refund:
 * the member site's payable goes down, so its next settlement carries the chargeback (told apart from the site's own
 * refunds by the report's refund_entry_id). `reject` moves nothing. Each
 * report is decided once; the holder is told, and the audit names the report on every move. A refund with nothing
 * left to refund or release upholds the report and moves nothing.
 */
export async function decideDispute(deps: Pick<DisputeDeps, 'db'>, req: DecideDisputeRequest): Promise<DisputeWithPayment> {
  if (req.amount !== undefined && (req.decision !== 'refund' || !(Number.isSafeInteger(req.amount) && req.amount > 0))) {
    throw new InvalidAmountError(req.decision === 'refund' ? undefined : 'amount is given only with a refund.');
  }
  return inTransaction(deps.db, async (trx) => {
    const found = await findDispute(trx, req.disputeId);
    if (!found) throw new NotFoundError(NO_SUCH_DISPUTE, { dispute_id: NO_SUCH_DISPUTE });
    const { approval } = await lockForChange(trx, found.approvalNo, undefined);
    const dispute = (await lockDispute(trx, req.disputeId))!;
    if (dispute.status !== 'open') {
      throw new DisputeStateError('dispute_decided', `This report was already decided (${dispute.status}) on ${dispute.decidedAt?.toISOString().slice(0, 10)}.`);
    }
    const move = { actor: req.actor, requestId: req.requestId, disputeId: dispute.id };
    let refunded = 0;
    let released = 0;
    let refundEntryId: number | null = null;
    if (req.decision === 'refund') {
      const refundable = approval.capturedAmount - approval.refundedAmount;
      const held = remainingHold(approval);
      refunded = req.amount ?? refundable;
      if (refunded > refundable) {
        throw new DisputeStateError(
          'nothing_to_refund',
          `Cannot refund ${formatMoney(refunded, approval.currency)}: ${formatMoney(refundable, approval.currency)} of this payment is charged and not refunded.`,
        );
      }
      // With nothing left charged or held (the site refunded or voided it, or a lost-card block released the hold, after
      // the report) the report is still upheld, moving nothing: rejecting it would tell the holder they were wrong.
      let current = approval;
      if (held > 0) {
        const r = await moveVoid(trx, current, move, 'dispute');
        current = r.approval;
        released = r.released;
      }
      if (refunded > 0) refundEntryId = (await moveRefund(trx, current, refunded, move)).entryId;
    }
    const status = req.decision === 'refund' ? 'refunded' : 'rejected';
    await recordDecision(trx, dispute.id, { status, decidedBy: req.actor, decisionNote: req.note, refundedAmount: refunded, releasedAmount: released, refundEntryId });
    await appendAudit(trx, {
      actor: req.actor,
      action: 'dispute.decided',
      subjectType: 'approval',
      subjectId: approval.id,
      details: { disputeId: dispute.id, approvalNo: approval.approvalNo, clientId: approval.clientId, decision: status, refunded, released, currency: approval.currency },
      requestId: req.requestId,
    });
    await queueApprovalEvent(trx, approval.clientId, approval.approvalNo, 'disputeDecided');
    const told = {
      decision: status,
      refunded: refunded ? money(refunded, approval.currency) : '',
      released: released ? money(released, approval.currency) : '',
      note: req.note ?? '',
    };
    await notifyHolder(trx, approval, 'dispute_decided', told);
    // A guardian who reported a child's payment hears the outcome too.
    const reporter = (await findCard(trx, dispute.cardId))?.accountId;
    if (reporter && reporter !== approval.accountId) await notifyHolder(trx, approval, 'dispute_decided', told, reporter);
    return (await findDispute(trx, dispute.id))!;
  });
}
