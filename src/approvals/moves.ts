import { appendAudit } from '../db/audit-log.ts';
import { updateApproval, type Approval, type ApprovalStatus } from '../db/approvals.ts';
import { findAccount, findCard } from '../db/cards.ts';
import { adjustCreditLine } from '../db/credit-lines.ts';
import type { Trx } from '../db/knex.ts';
import { findMemberSite } from '../db/member-sites.ts';
import { HOUSE, post } from '../ledger/post.ts';
import { notify, recipientOf } from '../notifications/notify.ts';

/**
 * The three ways money moves on an approval once it holds credit: capture (hold → receivable and the
 * site's payable), release (hold back to available credit) and refund (receivable back). They share one
 * file because each is the same five steps — post the balanced entry, move the denormalised balances,
 * update the approval, audit — and every caller (capture, void, refund, expire, revoke, auto-capture)
 * must have locked the holder's account row and then the approval row before calling.
 */

export interface MoveContext {
  /** Who asked: `site:<client_id>`, `system:expiry`, `card:<id>`, … (audit actor). */
  actor: string;
  requestId?: string | undefined;
  /** The holder's report (dispute) the move decides, if any: named in the audit entry. */
  disputeId?: string | undefined;
}

/** Credit still held by an approval: neither captured nor released. */
export function remainingHold(a: Pick<Approval, 'status' | 'amount' | 'capturedAmount' | 'releasedAmount'>): number {
  return a.status === 'approved' ? a.amount - a.capturedAmount - a.releasedAmount : 0;
}

/** Captures `amount` of the hold: holds −X, holds_control +X, receivable +X, payable(site) −X. */
export async function moveCapture(trx: Trx, a: Approval, amount: number, m: MoveContext): Promise<Approval> {
  await post(trx, {
    kind: 'capture',
    approvalId: a.id,
    currency: a.currency,
    memo: `capture ${a.approvalNo}`,
    legs: [
      { kind: 'holds', ownerId: a.accountId, amount: -amount },
      { kind: 'holds_control', ownerId: HOUSE, amount },
      { kind: 'receivable', ownerId: a.accountId, amount },
      { kind: 'payable', ownerId: a.clientId, amount: -amount },
    ],
  });
  await adjustCreditLine(trx, a.accountId, { held: -amount, posted: amount });
  const capturedAmount = a.capturedAmount + amount;
  const status: ApprovalStatus = capturedAmount + a.releasedAmount === a.amount ? 'captured' : a.status;
  await updateApproval(trx, a.id, { capturedAmount, status });
  await appendAudit(trx, {
    actor: m.actor,
    action: 'approval.captured',
    subjectType: 'approval',
    subjectId: a.id,
    details: { approvalNo: a.approvalNo, clientId: a.clientId, amount, capturedAmount, currency: a.currency },
    requestId: m.requestId,
  });
  return { ...a, capturedAmount, status };
}

/**
 * Releases whatever the approval still holds (holds −R, holds_control +R) and closes it with `status`.
 * With nothing left to release only the status changes.
 */
export async function moveRelease(
  trx: Trx,
  a: Approval,
  outcome: { status: ApprovalStatus; action: string; reason?: string | undefined },
  m: MoveContext,
): Promise<{ approval: Approval; released: number }> {
  const released = remainingHold(a);
  if (released > 0) {
    await post(trx, {
      kind: 'release',
      approvalId: a.id,
      currency: a.currency,
      memo: `release ${a.approvalNo} (${outcome.status})`,
      legs: [
        { kind: 'holds', ownerId: a.accountId, amount: -released },
        { kind: 'holds_control', ownerId: HOUSE, amount: released },
      ],
    });
    await adjustCreditLine(trx, a.accountId, { held: -released });
  }
  const releasedAmount = a.releasedAmount + released;
  const statusReason = outcome.reason ?? a.statusReason;
  await updateApproval(trx, a.id, { releasedAmount, status: outcome.status, statusReason });
  await appendAudit(trx, {
    actor: m.actor,
    action: outcome.action,
    subjectType: 'approval',
    subjectId: a.id,
    details: {
      approvalNo: a.approvalNo,
      clientId: a.clientId,
      released,
      currency: a.currency,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(m.disputeId ? { disputeId: m.disputeId } : {}),
    },
    requestId: m.requestId,
  });
  return { approval: { ...a, releasedAmount, status: outcome.status, statusReason }, released };
}

/**
 * Releases what the approval still holds as a void (a member site's, or the operator's upholding a holder's report):
 * it reads `captured` when part of it was captured (that part stays, and can still be refunded), else `voided`.
 */
export function moveVoid(trx: Trx, a: Approval, m: MoveContext, reason?: string): Promise<{ approval: Approval; released: number }> {
  return moveRelease(trx, a, { status: a.capturedAmount > 0 ? 'captured' : 'voided', action: 'approval.voided', reason }, m);
}

/**
 * Refunds `amount` of what was captured: receivable −Y, payable(site) +Y. Hands back the entry too: an upheld report
 * records it (disputes.refund_entry_id), which is how a settlement tells its chargeback from the site's refunds.
 */
export async function moveRefund(trx: Trx, a: Approval, amount: number, m: MoveContext): Promise<{ approval: Approval; entryId: number }> {
  const entryId = await post(trx, {
    kind: 'refund',
    approvalId: a.id,
    currency: a.currency,
    memo: `refund ${a.approvalNo}`,
    legs: [
      { kind: 'receivable', ownerId: a.accountId, amount: -amount },
      { kind: 'payable', ownerId: a.clientId, amount },
    ],
  });
  await adjustCreditLine(trx, a.accountId, { posted: -amount });
  const refundedAmount = a.refundedAmount + amount;
  await updateApproval(trx, a.id, { refundedAmount });
  await appendAudit(trx, {
    actor: m.actor,
    action: 'approval.refunded',
    subjectType: 'approval',
    subjectId: a.id,
    details: { approvalNo: a.approvalNo, clientId: a.clientId, amount, refundedAmount, currency: a.currency, ...(m.disputeId ? { disputeId: m.disputeId } : {}) },
    requestId: m.requestId,
  });
  return { approval: { ...a, refundedAmount }, entryId };
}

/**
 * Queues a message to the holder about an approval (last four digits only, never the number); with `to`, to that
 * account instead (a guardian who reported a child's payment hears of it as the child does).
 */
export async function notifyHolder(trx: Trx, a: Approval, template: string, data: Record<string, unknown>, to = a.accountId): Promise<void> {
  const account = await findAccount(trx, to);
  if (!account) return;
  const card = await findCard(trx, a.cardId);
  const site = await findMemberSite(trx, a.clientId);
  await notify(trx, recipientOf(account), template, {
    approvalNo: a.approvalNo,
    last4: card?.last4 ?? '',
    site: site?.name ?? a.clientId,
    ...data,
  });
}
