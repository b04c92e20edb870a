import type { Approval } from '../db/approvals.ts';
import type { Trx } from '../db/knex.ts';
import { money } from '../lib/money.ts';
import { ApprovalStateError } from './errors.ts';
import { lockForChange } from './lock-for-change.ts';
import { moveVoid, notifyHolder, type MoveContext } from './moves.ts';

export interface VoidRequest extends MoveContext {
  approvalNo: string;
  /** The member site asking; another site's approval is not found. */
  clientId?: string | undefined;
}

/**
 * Voids an approval, inside the caller's transaction: whatever it still holds goes back to the holder's
 * available credit. Nothing captured: the approval becomes `voided`; partly captured: `captured`
 * (the captured part stays, and can still be refunded).
 */
export async function voidApproval(trx: Trx, req: VoidRequest): Promise<{ approval: Approval; released: number }> {
  const { approval } = await lockForChange(trx, req.approvalNo, req.clientId);
  if (approval.status !== 'approved') {
    throw new ApprovalStateError('approval_not_open', `Approval ${approval.approvalNo} is ${approval.status}: nothing is held to void.`);
  }
  const result = await moveVoid(trx, approval, req);
  if (result.released > 0) {
    await notifyHolder(trx, approval, 'hold_released', { amount: money(result.released, approval.currency), why: 'voided' });
  }
  return result;
}
