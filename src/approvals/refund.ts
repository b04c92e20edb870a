import type { Approval } from '../db/approvals.ts';
import type { Trx } from '../db/knex.ts';
import { formatMoney, money } from '../lib/money.ts';
import { ApprovalStateError, InvalidAmountError } from './errors.ts';
import { lockForChange } from './lock-for-change.ts';
import { moveRefund, notifyHolder, type MoveContext } from './moves.ts';

export interface RefundRequest extends MoveContext {
  approvalNo: string;
  /** The member site asking; another site's approval is not found. */
  clientId?: string | undefined;
  /** Minor units; omitted: everything captured and not yet refunded. */
  amount?: number | undefined;
}

/**
 * Refunds all or part of what was captured on an approval, inside the caller's transaction: the
 * holder's receivable and the member site's payable go down by the amount. Refunds together never
 * exceed the captured amount (checked under the row locks). Allowed whatever the approval's status,
 * since captured money is owed back even after a void, expiry or revocation of the rest.
 */
export async function refund(trx: Trx, req: RefundRequest): Promise<{ approval: Approval; amount: number }> {
  if (req.amount !== undefined && !(Number.isSafeInteger(req.amount) && req.amount > 0)) throw new InvalidAmountError();
  const { approval } = await lockForChange(trx, req.approvalNo, req.clientId);
  const refundable = approval.capturedAmount - approval.refundedAmount;
  if (refundable === 0) {
    throw new ApprovalStateError(
      'nothing_to_refund',
      `Approval ${approval.approvalNo} has nothing captured that is not already refunded.`,
    );
  }
  const amount = req.amount ?? refundable;
  if (amount > refundable) {
    throw new ApprovalStateError(
      'amount_exceeds_refundable',
      `Cannot refund ${formatMoney(amount, approval.currency)}: only ${formatMoney(refundable, approval.currency)} of approval ${approval.approvalNo} is captured and not yet refunded.`,
    );
  }
  const { approval: updated } = await moveRefund(trx, approval, amount, req);
  await notifyHolder(trx, approval, 'payment_refunded', { amount: money(amount, approval.currency) });
  return { approval: updated, amount };
}
