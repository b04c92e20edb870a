import { randomUUID } from 'node:crypto';
import { insertApprovalEvent } from '../db/approval-events.ts';
import type { Trx } from '../db/knex.ts';
import { findMemberSiteWithApproval } from '../db/member-sites.ts';
import { presentApproval, presentDisputeToSite } from './present.ts';

/**
 * The changes to an approval a member site did not make itself and is told of, as Security Event Tokens (RFC 8417)
 * pushed to its approval_events_uri (RFC 8935). Each kind has its own event URI in our namespace; README "Approval
 * events" documents them. A URI names a kind of event forever: a change of payload meaning gets a new URI.
 */
export const APPROVAL_EVENTS = {
  /** The hold was released and the approval closed without the site: the card was reported lost. */
  revoked: 'https://cybercard.dev/events/approval-revoked',
  /** The hold ran out uncaptured (approvals/expire.ts); status expired, or captured if part of it was. */
  expired: 'https://cybercard.dev/events/approval-expired',
  /** The holder reported the payment (a dispute); nothing moved yet. */
  disputeOpened: 'https://cybercard.dev/events/approval-dispute-opened',
  /** The operator decided the report: upheld (refunded, a chargeback) or rejected. */
  disputeDecided: 'https://cybercard.dev/events/approval-dispute-decided',
} as const;

export type ApprovalEventKind = keyof typeof APPROVAL_EVENTS;

/**
 * Queues `kind` for the approval's member site, in the caller's transaction and after the change, so the event
 * commits or rolls back with it. Its payload is what the site's GET /api/approvals/:no shows at this moment (present.ts:
 * amounts, statuses, reason codes; never the holder's words, card or person). A site without an approval_events_uri,
 * or closed, is told nothing. Returns whether one was queued.
 */
export async function queueApprovalEvent(trx: Trx, clientId: string, approvalNo: string, kind: ApprovalEventKind): Promise<boolean> {
  const site = await findMemberSiteWithApproval(trx, clientId, approvalNo);
  if (!site?.approval || !site.approvalEventsUri || site.status === 'closed') return false;
  await insertApprovalEvent(trx, {
    clientId,
    jti: randomUUID(),
    event: APPROVAL_EVENTS[kind],
    payload: { ...presentApproval(site.approval, site), dispute: presentDisputeToSite(site.dispute) },
    approvalNo,
  });
  return true;
}
