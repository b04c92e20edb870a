import { findApprovalByNo } from '../db/approvals.ts';
import { isGuardianOf } from '../db/wards.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findDispute, findDisputeOfApproval, insertDispute, type DisputeReason, type DisputeWithPayment } from '../db/disputes.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError } from '../errors.ts';
import { newId } from '../lib/ids.ts';
import { money } from '../lib/money.ts';
import { queueApprovalEvent } from './approval-events.ts';
import { APPROVAL_NO_PATTERN } from './approval-number.ts';
import { DisputeStateError } from './errors.ts';
import { lockForChange } from './lock-for-change.ts';
import { notifyHolder, remainingHold } from './moves.ts';
import { statusInEffect } from './present.ts';

/** What reporting payments needs from the composition root. */
export interface DisputeDeps {
  db: Db;
  /** A payment may be reported this many days after its approval (config payments.disputeDays). */
  windowDays: number;
}

export interface OpenDisputeRequest {
  /** The holder's account (their session's): another account's approval is not found. */
  accountId: string;
  /** The card the holder is signed in with: who reported. */
  cardId: string;
  approvalNo: string;
  reason: DisputeReason;
  details: string;
  actor: string;
  requestId?: string | undefined;
  now?: Date;
}

const DAY_MS = 86_400_000;

/** The holder is told this of an approval number that is not theirs as of one that does not exist. */
export const NO_SUCH_PAYMENT = 'No payment with this approval number on your card.';

/**
 * Opens the holder's report of a payment (a dispute) for the operator to decide, in one transaction under the
 * account's and the approval's row locks (lock-for-change's order, so a report and a member site's capture or
 * refund of the same payment take turns): only the holder's own payment, with something still charged or
 * held, within the reporting window, once. Audited on the approval (the holder's activity shows it) and told
 * to the holder. The money does not move until the operator decides (decide-dispute.ts).
 */
export async function openDispute(deps: DisputeDeps, req: OpenDisputeRequest): Promise<DisputeWithPayment> {
  return inTransaction(deps.db, async (trx) => {
    const found = APPROVAL_NO_PATTERN.test(req.approvalNo) ? await findApprovalByNo(trx, req.approvalNo) : undefined;
    // The holder's own payment, or a child's whose card is linked to theirs: the guardian answers for it and is told of
    // each of its payments. Anyone else's is not found, like one that does not exist.
    const byGuardian = found !== undefined && found.accountId !== req.accountId && (await isGuardianOf(trx, req.accountId, found.accountId));
    if (!found || (found.accountId !== req.accountId && !byGuardian)) throw new NotFoundError(NO_SUCH_PAYMENT, { approval_no: NO_SUCH_PAYMENT });
    const { approval } = await lockForChange(trx, req.approvalNo, undefined);
    const earlier = await findDisputeOfApproval(trx, approval.id);
    if (earlier) {
      throw new DisputeStateError('already_reported', 'This payment was already reported: its report is listed on this page with its outcome.');
    }
    const now = req.now ?? new Date();
    const charged = approval.capturedAmount - approval.refundedAmount;
    // A hold past its expiry holds nothing any more, though the sweep may not have released it yet (statusInEffect).
    const held = statusInEffect(approval, now.getTime()) === 'approved' ? remainingHold(approval) : 0;
    if (charged + held === 0) {
      throw new DisputeStateError('nothing_to_dispute', 'Nothing of this payment is charged or held any more: there is nothing to report.');
    }
    if (now.getTime() - approval.createdAt.getTime() > deps.windowDays * DAY_MS) {
      throw new DisputeStateError('dispute_window_closed', 'This payment was approved too long ago to be reported here.');
    }
    const id = newId();
    // The report belongs to the payment's account; card_id says who reported it (a guardian's card for a child's payment).
    await insertDispute(trx, { id, approvalId: approval.id, accountId: approval.accountId, cardId: req.cardId, reason: req.reason, details: req.details });
    await appendAudit(trx, {
      actor: req.actor,
      action: 'dispute.opened',
      subjectType: 'approval',
      subjectId: approval.id,
      details: {
        disputeId: id,
        approvalNo: approval.approvalNo,
        clientId: approval.clientId,
        reason: req.reason,
        amount: approval.amount,
        currency: approval.currency,
        ...(byGuardian ? { by: 'guardian' } : {}),
      },
      requestId: req.requestId,
    });
    // The site hears that it was reported and why (the reason's code), never the holder's own words.
    await queueApprovalEvent(trx, approval.clientId, approval.approvalNo, 'disputeOpened');
    const told = { amount: money(approval.amount, approval.currency) };
    await notifyHolder(trx, approval, 'dispute_opened', told);
    if (byGuardian) await notifyHolder(trx, approval, 'dispute_opened', told, req.accountId);
    return (await findDispute(trx, id))!;
  });
}
