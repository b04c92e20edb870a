import type { Approval } from '../db/approvals.ts';
import type { DisputeSummary } from '../db/disputes.ts';
import type { MemberSite } from '../db/member-sites.ts';

/**
 * The status an approval has in effect at `now`: a hold past its hold_expires_at reads as the expiry sweep
 * (approvals/expire.ts) will leave it, `expired`, or `captured` if part of it was, though the sweep may not have run
 * yet. Capture already refuses such a hold (hold_expired); a strict-mode resource server must stop delivering on it too,
 * since the payment will never be taken.
 */
export function statusInEffect(a: Pick<Approval, 'status' | 'holdExpiresAt' | 'capturedAmount'>, now = Date.now()): Approval['status'] {
  if (a.status !== 'approved' || a.holdExpiresAt.getTime() > now) return a.status;
  return a.capturedAmount > 0 ? 'captured' : 'expired';
}

/** An approval as a member site sees it through the API (snake_case, amounts in minor units). */
export function presentApproval(a: Approval, site: MemberSite): Record<string, unknown> {
  const status = statusInEffect(a);
  return {
    approval_no: a.approvalNo,
    // A suspended member site's approvals read as suspended: nothing may be delivered on them.
    status: site.status === 'suspended' ? 'suspended' : status,
    amount: a.amount,
    currency: a.currency,
    captured_amount: a.capturedAmount,
    refunded_amount: a.refundedAmount,
    released_amount: a.releasedAmount,
    held_amount: status === 'approved' ? a.amount - a.capturedAmount - a.releasedAmount : 0,
    description: a.description,
    content_ref: a.contentRef,
    rating: a.rating,
    created_at: a.createdAt.toISOString(),
    hold_expires_at: a.holdExpiresAt.toISOString(),
    status_reason: a.statusReason,
  };
}

/**
 * The holder's report of an approval as its member site reads it on GET /api/approvals/:no (null when none): that it
 * was reported, why (the reason's code, not the holder's words), and whether the operator has decided it, so the site
 * can look into it and hold off delivering more on a payment the holder says is not theirs. An upheld report's
 * refunded_amount is the chargeback: the part of the approval's refunded_amount the site did not refund itself, which
 * its settlement lists as chargebacks.
 */
export function presentDisputeToSite(d: DisputeSummary | undefined): Record<string, unknown> | null {
  return d
    ? {
        status: d.status,
        reason: d.reason,
        opened_at: d.openedAt.toISOString(),
        decided_at: d.decidedAt?.toISOString() ?? null,
        refunded_amount: d.refundedAmount,
        released_amount: d.releasedAmount,
      }
    : null;
}
