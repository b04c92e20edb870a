import { appendAudit } from '../db/audit-log.ts';
import { insertApproval, interactionHasApproval, requestHasApproval, type Approval } from '../db/approvals.ts';
import { findCard, guardianOnCall, lockAccountFacts, type Account } from '../db/cards.ts';
import { adjustCreditLine, type CreditLine } from '../db/credit-lines.ts';
import type { Trx } from '../db/knex.ts';
import type { SpendingControls } from '../db/spending-controls.ts';
import { findMemberSite, type MemberSite } from '../db/member-sites.ts';
import { joinRequestTransaction } from '../db/request-scope.ts';
import { availableCredit } from '../ledger/credit-line.ts';
import { refuseIfOverdue } from '../ledger/delinquency.ts';
import { HOUSE, post } from '../ledger/post.ts';
import { newId } from '../lib/ids.ts';
import { formatMoney, money } from '../lib/money.ts';
import { insertOutboxMessage } from '../db/outbox.ts';
import { notificationsTo, recipientOf } from '../notifications/notify.ts';
import { generateApprovalNo } from './approval-number.ts';
import { releaseExpiredHoldsOf } from './expire.ts';
import { moveCapture } from './moves.ts';
import type { ApprovalDeps } from './deps.ts';
import { ApprovalRefusedError, DuplicateApprovalError, inactiveCardMessage } from './errors.ts';
import { refuseByControls } from './refuse-by-controls.ts';
import { refuseOverVelocity } from './refuse-over-velocity.ts';
import { requireStepUp } from './require-step-up.ts';

export interface PaymentRequest {
  accountId: string;
  cardId: string;
  clientId: string;
  amount: number;
  currency: string;
  description: string;
  contentRef: string | null;
  rating: number;
  requestId?: string;
  /** The holder's TOTP code, for payments above the step-up threshold. */
  secondFactorCode?: string | undefined;
  /** The hosted interaction approving it: one approval per interaction, whatever is replayed. */
  interactionUid?: string | undefined;
  /** The member site's authorization request (its PKCE code_challenge): one approval per request, however many sign-ins it starts. */
  requestKey?: string | undefined;
}

/** What a pre-approval check sees; checks run inside the approval transaction, after the row lock. */
export interface ApprovalContext {
  trx: Trx;
  request: PaymentRequest;
  line: CreditLine;
  /** The holder account and its controls, as read under the lock. */
  account: Account;
  controls: SpendingControls;
  /** The member site, as the approval read it. */
  site: MemberSite;
}

export type ApprovalCheck = (c: ApprovalContext) => Promise<void>;

const MAX_NUMBER_ATTEMPTS = 5;

/** The holder's words when a minor's guardian no longer holds an open card. */
/**
 * A child's card whose guardian set its limit to 0, the way a guardian pauses a child's payments (set-ward-limit.ts):
 * no repayment brings its credit back, only the guardian.
 */
export const PAUSED_BY_GUARDIAN = "Your guardian has paused this card's payments. Ask them to raise its limit.";

/** Whether `line` is a child's card paused by the guardian (limit 0), for the refusal's words and the approval page's. */
export function pausedByGuardian(account: { guardianAccountId: string | null }, line: { creditLimit: number }): boolean {
  return account.guardianAccountId !== null && line.creditLimit === 0;
}

export const GUARDIAN_GONE =
  "Your guardian's card is closed, so this card cannot approve payments until a guardian with a card vouches for you again. Signing in still works.";

/**
 * Approves a payment: in ONE transaction it locks the holder's credit line, checks card, member site,
 * the extra checks, delinquency, the holder's spending controls, the card's velocity, available credit and
 * (above the threshold) the step-up code, records the approval
 * with a fresh approval number, posts the hold, writes the audit entry and queues the notification.
 * Concurrent approvals on one account serialise on the row lock, so they can never exceed the limit.
 *
 * Every refusal is decided before the first write (the step-up code, spent last, only when all else
 * passed; the one exception, the release of this account's expired holds on the way to an over-limit refusal, is a
 * change complete in itself that the expiry sweep would make anyway), so a refused approval has written nothing else: inside a request it runs in the request's own
 * transaction, without a savepoint (two round trips saved), and the caller goes on to record the refusal.
 * A failure after the first write is never a refusal: a server error, and the request rolls all of it back
 * (a 4xx would commit it). The one 4xx after a write, DuplicateApprovalError, leaves only the step-up code
 * spent, as a second Approve for one interaction should. Outside a request, a transaction of its own.
 */
export async function approve(deps: ApprovalDeps, req: PaymentRequest, checks: readonly ApprovalCheck[] = []): Promise<Approval> {
  return joinRequestTransaction(deps.db, async (trx) => {
    const locked = await lockAccountFacts(trx, req.accountId);
    const card = await findCard(trx, req.cardId);
    if (!locked || !card || card.accountId !== req.accountId || card.status !== 'active') {
      throw new ApprovalRefusedError('card_inactive', inactiveCardMessage(card?.status));
    }
    const { line } = locked;
    const site = await (deps.directory?.memberSite ?? findMemberSite)(trx, req.clientId);
    if (!site || site.status !== 'active') {
      throw new ApprovalRefusedError('site_suspended', 'This member site cannot take payments at the moment.');
    }
    if (req.currency !== line.currency || req.currency !== deps.policy.currency) {
      throw new ApprovalRefusedError('over_limit', `Payments are accepted in ${line.currency} only.`);
    }
    // A minor's guardian vouches for them and answers for their debts: with every card of the guardian closed, no one does.
    const guardianId = locked.account.guardianAccountId;
    const guardian = guardianId ? await guardianOnCall(trx, guardianId) : undefined;
    if (guardianId && !guardian?.hasOpenCard) throw new ApprovalRefusedError('card_inactive', GUARDIAN_GONE);
    for (const check of checks) await check({ trx, request: req, line, account: locked.account, controls: locked.controls, site });
    await refuseByControls(trx, req, site.name, deps.policy.timeZone, locked.controls);
    await refuseOverVelocity(trx, req, deps.policy.velocity);
    await refuseIfOverdue(trx, req.accountId, deps.policy.delinquency);
    let available = availableCredit(line);
    if (req.amount > available) {
      // A hold past its expiry is no longer active (capture refuses it, the API reads it expired) though the sweep may
      // not have reached it: release it now, so that its credit is the holder's again, and count again. Only on the
      // way to a refusal, so a payment that fits pays nothing for it.
      const released = await releaseExpiredHoldsOf(trx, req.accountId);
      available = availableCredit({ ...line, heldAmount: line.heldAmount - released });
    }
    if (req.amount > available) {
      throw new ApprovalRefusedError(
        'over_limit',
        pausedByGuardian(locked.account, line)
          ? PAUSED_BY_GUARDIAN
          : `This payment of ${formatMoney(req.amount, req.currency)} is more than your available credit of ${formatMoney(available, req.currency)}.`,
      );
    }
    // Last: a step-up code is spent only on a payment that passes every other check.
    await requireStepUp(trx, deps, req);

    // A number drawn twice, or a second approval for one interaction or one authorization request, inserts
    // nothing (and aborts nothing).
    let approval: Approval | undefined;
    for (let i = 0; !approval; i++) {
      if (i >= MAX_NUMBER_ATTEMPTS) throw new Error('could not draw a free approval number');
      approval = await insertApproval(trx, {
        id: newId(),
        approvalNo: generateApprovalNo(),
        accountId: req.accountId,
        cardId: req.cardId,
        clientId: req.clientId,
        status: 'approved',
        amount: req.amount,
        currency: req.currency,
        description: req.description,
        contentRef: req.contentRef,
        rating: req.rating,
        holdSeconds: deps.policy.holdSeconds,
        interactionUid: req.interactionUid,
        requestKey: req.requestKey,
      });
      if (!approval && req.interactionUid && (await interactionHasApproval(trx, req.interactionUid))) throw new DuplicateApprovalError();
      if (!approval && req.requestKey && (await requestHasApproval(trx, req.clientId, req.requestKey))) throw new DuplicateApprovalError();
    }
    const { approvalNo } = approval;
    await post(trx, {
      kind: 'hold',
      approvalId: approval.id,
      currency: req.currency,
      memo: `hold ${approvalNo}`,
      legs: [
        { kind: 'holds', ownerId: req.accountId, amount: req.amount },
        { kind: 'holds_control', ownerId: HOUSE, amount: -req.amount },
      ],
    });
    await adjustCreditLine(trx, req.accountId, { held: req.amount });
    await appendAudit(trx, {
      actor: `card:${req.cardId}`,
      action: 'approval.approved',
      subjectType: 'approval',
      subjectId: approval.id,
      details: { approvalNo, clientId: req.clientId, amount: req.amount, currency: req.currency },
      ...(req.requestId ? { requestId: req.requestId } : {}),
    });
    // A site configured for auto-capture delivers at once: capture in full in this same transaction.
    const result = site.autoCapture
      ? await moveCapture(trx, approval, req.amount, { actor: `site:${req.clientId}`, requestId: req.requestId })
      : approval;
    const { account } = locked;
    const told = { approvalNo, site: site.name, amount: money(req.amount, req.currency), last4: card.last4 };
    // The holder, and a minor's guardian (who answers for the payment), in one statement.
    await insertOutboxMessage(trx, [
      ...notificationsTo(recipientOf(account), 'payment_approved', told),
      ...(guardianId && guardian ? notificationsTo({ accountId: guardianId, email: guardian.email, mobile: guardian.mobile, locale: guardian.locale }, 'child_payment_approved', { ...told, name: account.legalName }) : []),
    ]);
    return result;
  });
}
