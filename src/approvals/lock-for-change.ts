import { findApprovalByNo, lockApproval, type Approval } from '../db/approvals.ts';
import { lockCreditLine, type CreditLine } from '../db/credit-lines.ts';
import type { Trx } from '../db/knex.ts';
import { NotFoundError } from '../errors.ts';
import { APPROVAL_NO_PATTERN } from './approval-number.ts';

/**
 * Finds an approval by number and locks, in this order, the holder's account row and then the approval
 * row — the order approve() takes them in, so a change and an approval on the same account can never
 * deadlock. With `clientId`, another member site's approval is indistinguishable from a missing one.
 */
export async function lockForChange(
  trx: Trx,
  approvalNo: string,
  clientId: string | undefined,
): Promise<{ line: CreditLine; approval: Approval }> {
  const found = APPROVAL_NO_PATTERN.test(approvalNo) ? await findApprovalByNo(trx, approvalNo) : undefined;
  if (!found || (clientId !== undefined && found.clientId !== clientId)) {
    throw new NotFoundError('No such approval for this member site.');
  }
  // account_id never changes, so the unlocked read names the right row to lock first.
  const line = await lockCreditLine(trx, found.accountId);
  const approval = await lockApproval(trx, found.id);
  if (!line || !approval) throw new NotFoundError('No such approval for this member site.');
  return { line, approval };
}
