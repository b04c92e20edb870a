import type { DisputeWithPayment } from '../db/disputes.ts';

/** What a holder may read of their report of a payment (JSON API, and the page's rows). */
export function presentDisputeToHolder(d: DisputeWithPayment) {
  return {
    id: d.id,
    approval_no: d.approvalNo,
    site: d.siteName,
    description: d.description,
    amount: d.amount,
    currency: d.currency,
    approved_at: d.approvedAt.toISOString(),
    reason: d.reason,
    details: d.details,
    status: d.status,
    opened_at: d.openedAt.toISOString(),
    decided_at: d.decidedAt?.toISOString() ?? null,
    decision_note: d.decisionNote,
    refunded_amount: d.refundedAmount,
    released_amount: d.releasedAmount,
  };
}

/** What the operator reads of a report: the holder's view, with the account, card, member site and decider. */
export function presentDisputeToOperator(d: DisputeWithPayment) {
  return {
    ...presentDisputeToHolder(d),
    account_id: d.accountId,
    card_id: d.cardId,
    client_id: d.clientId,
    decided_by: d.decidedBy,
  };
}
