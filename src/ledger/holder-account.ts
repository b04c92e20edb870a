import { remainingHold } from '../approvals/moves.ts';
import { statusInEffect } from '../approvals/present.ts';
import { openApprovalsForAccount, recentApprovalsForAccount, type Approval } from '../db/approvals.ts';
import { readCreditLine } from '../db/credit-lines.ts';
import type { Conn } from '../db/knex.ts';
import { recentPayouts } from '../db/payouts.ts';
import { recentRepayments } from '../db/repayments.ts';
import {
  billingProfile,
  findStatement,
  findStatementSchedule,
  listStatements,
  overdueForAccount,
  statementLines,
  type OverdueStatement,
  type Statement,
} from '../db/statements.ts';
import { NotFoundError } from '../errors.ts';
import { availableCredit } from './credit-line.ts';
import type { DelinquencyPolicy } from './deps.ts';
import { formatPaymentReference } from './payment-reference.ts';

const RECENT_APPROVALS = 20;
const RECENT_STATEMENTS = 12;
const RECENT_REPAYMENTS = 10;
const RECENT_PAYOUTS = 10;

/** An approval as it stands at `now`: a hold past its expiry reads as the sweep will leave it (present.ts statusInEffect). */
function inEffect(a: Approval, now: number): Approval {
  return { ...a, status: statusInEffect(a, now) };
}

function presentApprovalLine(a: Approval & { siteName?: string }) {
  return {
    approval_no: a.approvalNo,
    site: a.siteName ?? a.clientId,
    description: a.description,
    status: a.status,
    amount: a.amount,
    captured_amount: a.capturedAmount,
    refunded_amount: a.refundedAmount,
    held_amount: remainingHold(a),
    created_at: a.createdAt.toISOString(),
    hold_expires_at: a.status === 'approved' ? a.holdExpiresAt.toISOString() : null,
  };
}

export function presentStatementSummary(s: Statement) {
  return {
    id: s.id,
    statement_date: s.statementDate,
    period_start: s.periodStart.toISOString(),
    period_end: s.periodEnd.toISOString(),
    currency: s.currency,
    opening_balance: s.openingBalance,
    charges: s.charges,
    refunds: s.refunds,
    repayments: s.repayments,
    payouts: s.payouts,
    closing_balance: s.closingBalance,
    due_date: s.dueDate,
    payment_reference: formatPaymentReference(s.paymentReference),
  };
}

export type HolderAccountView = Awaited<ReturnType<typeof holderAccount>>;

/**
 * What a holder sees of their account: balance (what they owe; negative is credit), limit, holds and
 * available credit, standing (overdue or good), open holds, recent approvals, statements, repayments and payouts.
 * Read without locks: a consistent-enough picture for display, never used to decide anything.
 */
export async function holderAccount(conn: Conn, accountId: string, policy: DelinquencyPolicy, opts: ViewOptions = {}) {
  return (await holderAccountAndSchedule(conn, accountId, policy, opts)).view;
}

/** `operator`: the operator's view (API, console, CLI), which also names the guardian's account and figures. */
export interface ViewOptions {
  operator?: boolean;
}

/**
 * The account's standing from what stops it (overdueForAccount: its own first, then its guardian's, then another
 * linked child's (`sibling_statement`, dates only to the holder, like the guardian's), then its wards'):
 * `reason` and the statement fields are those of the first (the card's own, or a ward's for a guardian), except a
 * minor stopped by the guardian's statement alone, who owes nothing overdue of their own: the guardian's statement is
 * `guardian_statement`, apart, beside the minor's own when both are overdue (paying their own does not restore the
 * card then). The holder gets its dates only, as the minor's pages show them; the operator also its account and
 * amount.
 */
function standingOf(found: OverdueStatement[], opts: ViewOptions) {
  const [first] = found;
  if (!first) return { status: 'good' as const };
  const guardian = found.find((o) => o.whose === 'guardian');
  const guardianStatement = guardian && {
    guardian_statement: {
      statement_date: guardian.statementDate,
      due_date: guardian.dueDate,
      ...(opts.operator ? { account_id: guardian.accountId, outstanding: guardian.outstanding } : {}),
    },
  };
  // Another linked child's statement the guardian answers for: its dates apart, as the guardian's are (the holder never
  // gets the other child's account or figures; the operator does, to find what to chase).
  const sibling = found.find((o) => o.whose === 'sibling');
  const siblingStatement = sibling && {
    sibling_statement: {
      statement_date: sibling.statementDate,
      due_date: sibling.dueDate,
      ...(opts.operator ? { account_id: sibling.accountId, outstanding: sibling.outstanding } : {}),
    },
  };
  const message =
    first.whose === 'ward'
      ? "Payment overdue on a child's card you answer for: new charges on your card are refused until its statement is paid."
      : first.whose === 'guardian'
        ? "Payment overdue on your guardian's statement: new charges on your card are refused until your guardian pays it."
        : first.whose === 'sibling'
          ? 'Payment overdue on a statement your guardian answers for: new charges on your card are refused until your guardian pays it.'
          : 'Payment overdue: new charges are refused until the statement is paid.';
  if (first.whose === 'guardian') return { status: 'overdue' as const, reason: first.whose, message, ...guardianStatement, ...siblingStatement };
  if (first.whose === 'sibling') return { status: 'overdue' as const, reason: first.whose, message, ...siblingStatement };
  return {
    status: 'overdue' as const,
    // Whose statement: the card's own, or a ward's (a minor's card this one answers for).
    reason: first.whose,
    message,
    account_id: first.accountId,
    ...(first.whose === 'ward' ? { ward_name: first.wardName } : {}),
    statement_date: first.statementDate,
    due_date: first.dueDate,
    outstanding: first.outstanding,
    ...guardianStatement,
    ...siblingStatement,
  };
}

/** holderAccount's view, and the statement schedule it was read with (the page words its statement-day link by it). */
export async function holderAccountAndSchedule(conn: Conn, accountId: string, policy: DelinquencyPolicy, opts: ViewOptions = {}) {
  const line = await readCreditLine(conn, accountId);
  const profile = await billingProfile(conn, accountId);
  const schedule = await findStatementSchedule(conn, accountId);
  if (!line || !profile || !schedule) throw new NotFoundError('There is no such account.');
  const overdue = await overdueForAccount(conn, accountId, { ...policy, linked: policy.guardianResponsible });
  const [open, recent, statements, repayments, payouts] = [
    await openApprovalsForAccount(conn, accountId),
    await recentApprovalsForAccount(conn, accountId, RECENT_APPROVALS),
    await listStatements(conn, accountId, RECENT_STATEMENTS),
    await recentRepayments(conn, accountId, RECENT_REPAYMENTS),
    await recentPayouts(conn, accountId, RECENT_PAYOUTS),
  ];
  const siteNames = new Map(recent.map((a) => [a.clientId, a.siteName]));
  // Holds past their expiry are no longer active, though the sweep may not have released them yet: approve() releases
  // them before refusing for want of credit, so the holder is shown their credit as a payment would find it.
  const now = Date.now();
  const active = open.filter((a) => statusInEffect(a, now) === 'approved');
  const lapsed = open.reduce((sum, a) => sum + (statusInEffect(a, now) === 'approved' ? 0 : remainingHold(a)), 0);
  const held = line.heldAmount - lapsed;
  const view = {
    account_id: accountId,
    currency: line.currency,
    credit_limit: line.creditLimit,
    balance: line.postedBalance,
    held,
    available_credit: availableCredit({ ...line, heldAmount: held }),
    payment_reference: formatPaymentReference(profile.paymentReference),
    // A ward's are its guardian's. After a change, statements dated before statement_day_from keep the day before it.
    statement_day: schedule.day,
    statement_day_from: schedule.from,
    previous_statement_day: schedule.previousDay,
    standing: standingOf(overdue, opts),
    open_holds: active.map((a) => presentApprovalLine({ ...a, siteName: siteNames.get(a.clientId) ?? a.clientId })),
    // Whether the holder already reported the payment (open, refunded, rejected), so the page offers no second report;
    // the report's id, so an operator's view links to it.
    recent_approvals: recent.map((a) => ({ ...presentApprovalLine({ ...inEffect(a, now), siteName: a.siteName }), report_id: a.reportId, report_status: a.reportStatus })),
    statements: statements.map(presentStatementSummary),
    recent_repayments: repayments.map((r) => ({
      id: r.id,
      amount: r.amount,
      currency: r.currency,
      received_on: r.receivedOn,
      recorded_at: r.createdAt.toISOString(),
      source: r.source,
    })),
    // Credit sent back by bank transfer; the operator's reason is in the audit trail (payout.sent), not here.
    recent_payouts: payouts.map((p) => ({
      id: p.id,
      amount: p.amount,
      currency: p.currency,
      bank_reference: p.bankReference,
      paid_at: p.createdAt.toISOString(),
    })),
  };
  return { view, schedule };
}

/** One of the holder's statements with its lines; another account's statement is not found. */
export async function holderStatement(conn: Conn, accountId: string, statementId: number) {
  const s = Number.isSafeInteger(statementId) && statementId > 0 ? await findStatement(conn, statementId) : undefined;
  if (!s || s.accountId !== accountId) throw new NotFoundError('There is no such statement.');
  return {
    ...presentStatementSummary(s),
    lines: (await statementLines(conn, s.id)).map((l) => ({
      kind: l.kind,
      booked_at: l.bookedAt.toISOString(),
      amount: l.amount,
      approval_no: l.approvalNo,
      site: l.siteName,
      description: l.description,
    })),
  };
}
