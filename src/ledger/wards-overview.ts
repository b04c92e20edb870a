import { remainingHold } from '../approvals/moves.ts';
import { statusInEffect } from '../approvals/present.ts';
import type { Conn } from '../db/knex.ts';
import { overdueStatements, type OverdueStatement } from '../db/statements.ts';
import { latestApprovalsOf, wardSummaries, type WardApproval } from '../db/wards.ts';
import { todayIn } from './calendar.ts';
import { availableCredit } from './credit-line.ts';
import type { DelinquencyPolicy } from './deps.ts';

/** How many of each ward's approvals the guardian sees. */
export const WARD_APPROVALS = 10;

export type WardView = Awaited<ReturnType<typeof wardsOverview>>[number];

/**
 * What a guardian sees of the accounts linked to theirs (accounts.guardian_account_id): each ward's name, current
 * card, limit, available credit, holds, balance owed, its standing (an overdue statement, which with
 * delinquency.guardianResponsible stops the guardian's card too), this calendar month's approvals (in the billing
 * time zone) and its last approvals, in three statements whatever the number of wards. Nothing about any other account: the
 * guardian link is the only way in. Read without locks, for display.
 */
export async function wardsOverview(conn: Conn, guardianAccountId: string, policy: DelinquencyPolicy) {
  const { timeZone } = policy;
  const wards = await wardSummaries(conn, guardianAccountId, timeZone);
  const ids = wards.map((w) => w.accountId);
  const approvals = await latestApprovalsOf(conn, ids, WARD_APPROVALS);
  const overdue = new Map((await overdueStatements(conn, ids, policy)).map((o) => [o.accountId, o]));
  const byAccount = new Map<string, WardApproval[]>();
  for (const a of approvals) byAccount.set(a.accountId, [...(byAccount.get(a.accountId) ?? []), a]);
  const now = Date.now();
  return wards.map((w) => ({
    account_id: w.accountId,
    legal_name: w.legalName,
    card: w.card && { last4: w.card.last4, status: w.card.status },
    currency: w.currency,
    credit_limit: w.creditLimit,
    available_credit: availableCredit({ accountId: w.accountId, creditLimit: w.creditLimit, currency: w.currency, postedBalance: w.postedBalance, heldAmount: w.heldAmount }),
    held: w.heldAmount,
    balance: w.postedBalance,
    approved_this_month: w.approvedThisMonth,
    standing: standingOf(overdue.get(w.accountId), policy, wards.length > 1),
    recent_approvals: (byAccount.get(w.accountId) ?? []).map((raw) => {
      // A hold past its expiry reads as the sweep will leave it (present.ts), as on the holder's own page.
      const a = { ...raw, status: statusInEffect(raw, now) };
      const held = remainingHold(a);
      return {
        approval_no: a.approvalNo,
        created_at: a.createdAt.toISOString(),
        date: todayIn(timeZone, a.createdAt),
        site: a.siteName,
        amount: a.amount,
        currency: a.currency,
        status: a.status,
        captured_amount: a.capturedAmount,
        refunded_amount: a.refundedAmount,
        held_amount: held,
        hold_expires_at: held > 0 ? a.holdExpiresAt.toISOString() : null,
        // The guardian may report a child's payment (approvals/open-dispute.ts); whether it was reported, by either.
        report_status: a.reportStatus,
      };
    }),
  }));
}

/**
 * A ward's standing as the guardian sees it: good, or its overdue statement, and whether it stops the guardian's card
 * and (the guardian being in arrears) the guardian's other children's cards.
 */
function standingOf(o: OverdueStatement | undefined, policy: DelinquencyPolicy, otherWards: boolean) {
  if (!o) return { status: 'good' as const };
  return {
    status: 'overdue' as const,
    statement_id: o.statementId,
    statement_date: o.statementDate,
    due_date: o.dueDate,
    outstanding: o.outstanding,
    currency: o.currency,
    guardian_stopped: policy.guardianResponsible,
    siblings_stopped: policy.guardianResponsible && otherWards,
  };
}
