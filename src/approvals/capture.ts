import type { Approval } from '../db/approvals.ts';
import type { Trx } from '../db/knex.ts';
import { findMemberSite } from '../db/member-sites.ts';
import { formatMoney } from '../lib/money.ts';
import { ApprovalStateError, InvalidAmountError } from './errors.ts';
import { lockForChange } from './lock-for-change.ts';
import { moveCapture, remainingHold, type MoveContext } from './moves.ts';

export interface CaptureRequest extends MoveContext {
  approvalNo: string;
  /** The member site asking; another site's approval is not found. Omit for operator or system use. */
  clientId?: string | undefined;
  /** Minor units; omitted: everything still held. */
  amount?: number | undefined;
}

/**
 * Captures all or part of an approval's hold, inside the caller's transaction: the captured amount
 * moves from the hold to the holder's receivable and the member site's payable. Several partial
 * captures may follow one another; together they never exceed the hold (checked under the row locks).
 * When nothing remains held the approval becomes `captured`.
 */
export async function capture(trx: Trx, req: CaptureRequest): Promise<{ approval: Approval; amount: number }> {
  if (req.amount !== undefined && !(Number.isSafeInteger(req.amount) && req.amount > 0)) throw new InvalidAmountError();
  const { approval } = await lockForChange(trx, req.approvalNo, req.clientId);
  if (approval.status !== 'approved') {
    throw new ApprovalStateError('approval_not_open', `Approval ${approval.approvalNo} is ${approval.status}: nothing is held to capture.`);
  }
  if (approval.holdExpiresAt.getTime() <= Date.now()) {
    throw new ApprovalStateError('hold_expired', `The hold of approval ${approval.approvalNo} has expired: it can no longer be captured.`);
  }
  const site = await findMemberSite(trx, approval.clientId);
  if (!site || site.status !== 'active') {
    throw new ApprovalStateError('site_suspended', 'This member site cannot capture payments at the moment.');
  }
  const held = remainingHold(approval);
  const amount = req.amount ?? held;
  if (amount > held) {
    throw new ApprovalStateError(
      'amount_exceeds_hold',
      `Cannot capture ${formatMoney(amount, approval.currency)}: approval ${approval.approvalNo} holds only ${formatMoney(held, approval.currency)}.`,
    );
  }
  return { approval: await moveCapture(trx, approval, amount, req), amount };
}
