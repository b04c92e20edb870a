import type { Approval } from '../db/approvals.ts';
import type { MemberSite } from '../db/member-sites.ts';

/** An approval as a member site sees it through the API (snake_case, amounts in minor units). */
export function presentApproval(a: Approval, site: MemberSite): Record<string, unknown> {
  return {
    approval_no: a.approvalNo,
    // A suspended member site's approvals read as suspended: nothing may be delivered on them.
    status: site.status === 'suspended' ? 'suspended' : a.status,
    amount: a.amount,
    currency: a.currency,
    captured_amount: a.capturedAmount,
    refunded_amount: a.refundedAmount,
    released_amount: a.releasedAmount,
    held_amount: a.status === 'approved' ? a.amount - a.capturedAmount - a.releasedAmount : 0,
    description: a.description,
    content_ref: a.contentRef,
    rating: a.rating,
    created_at: a.createdAt.toISOString(),
    hold_expires_at: a.holdExpiresAt.toISOString(),
    status_reason: a.statusReason,
  };
}
