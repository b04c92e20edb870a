import type { Conn } from './knex.ts';

export type DisputeReason = 'not_mine' | 'not_received' | 'wrong_amount' | 'other';
export type DisputeStatus = 'open' | 'refunded' | 'rejected';

export interface Dispute {
  id: string;
  approvalId: string;
  accountId: string;
  cardId: string;
  reason: DisputeReason;
  details: string;
  status: DisputeStatus;
  openedAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionNote: string | null;
  refundedAmount: number;
  releasedAmount: number;
  /** The refund entry an upheld report's decision posted (null when it moved nothing): the site's chargeback. */
  refundEntryId: number | null;
}

/** What a member site is told of the holder's report of its approval (never the holder's words). */
export type DisputeSummary = Pick<Dispute, 'status' | 'reason' | 'openedAt' | 'decidedAt' | 'refundedAmount' | 'releasedAmount'>;

const SUMMARY_COLUMNS = ['status', 'reason', 'opened_at', 'decided_at', 'refunded_amount', 'released_amount'] as const;

/** For a query that selects a report beside its approval: what a site is told of it, as `<alias>.<column> as <prefix><column>`. */
export function disputeSummaryColumnsAs(alias: string, prefix: string): string[] {
  return SUMMARY_COLUMNS.map((c) => `${alias}.${c} as ${prefix}${c}`);
}

/** The summary selected with disputeSummaryColumnsAs, or undefined when an outer join found no report. */
export function disputeSummaryFromColumnsAs(r: Record<string, unknown>, prefix: string): DisputeSummary | undefined {
  if (!r[`${prefix}status`]) return undefined;
  return {
    status: r[`${prefix}status`] as DisputeStatus,
    reason: r[`${prefix}reason`] as DisputeReason,
    openedAt: r[`${prefix}opened_at`] as Date,
    decidedAt: (r[`${prefix}decided_at`] as Date | null) ?? null,
    refundedAmount: Number(r[`${prefix}refunded_amount`]),
    releasedAmount: Number(r[`${prefix}released_amount`]),
  };
}

/** A dispute with what the pages and the operator show of its payment. */
export interface DisputeWithPayment extends Dispute {
  approvalNo: string;
  clientId: string;
  siteName: string;
  description: string;
  amount: number;
  currency: string;
  approvedAt: Date;
}

type Row = Record<string, unknown>;

function toDispute(r: Row): Dispute {
  return {
    id: r.id as string,
    approvalId: r.approval_id as string,
    accountId: r.account_id as string,
    cardId: r.card_id as string,
    reason: r.reason as DisputeReason,
    details: r.details as string,
    status: r.status as DisputeStatus,
    openedAt: r.opened_at as Date,
    decidedAt: (r.decided_at as Date | null) ?? null,
    decidedBy: (r.decided_by as string | null) ?? null,
    decisionNote: (r.decision_note as string | null) ?? null,
    refundedAmount: Number(r.refunded_amount),
    releasedAmount: Number(r.released_amount),
    refundEntryId: r.refund_entry_id === null || r.refund_entry_id === undefined ? null : Number(r.refund_entry_id),
  };
}

function toDisputeWithPayment(r: Row): DisputeWithPayment {
  return {
    ...toDispute(r),
    approvalNo: r.approval_no as string,
    clientId: r.client_id as string,
    siteName: r.site_name as string,
    description: r.description as string,
    amount: Number(r.amount),
    currency: r.currency as string,
    approvedAt: r.approved_at as Date,
  };
}

/** Disputes joined to their approval and member site. */
function withPayment(conn: Conn) {
  return conn('disputes as d')
    .join('approvals as a', 'a.id', 'd.approval_id')
    .join('member_sites as s', 's.client_id', 'a.client_id')
    .select('d.*', 'a.approval_no', 'a.client_id', 'a.description', 'a.amount', 'a.currency', 'a.created_at as approved_at', 's.name as site_name');
}

export async function insertDispute(
  conn: Conn,
  d: Pick<Dispute, 'id' | 'approvalId' | 'accountId' | 'cardId' | 'reason' | 'details'>,
): Promise<Dispute> {
  const [row] = (await conn('disputes')
    .insert({ id: d.id, approval_id: d.approvalId, account_id: d.accountId, card_id: d.cardId, reason: d.reason, details: d.details })
    .returning('*')) as Row[];
  return toDispute(row!);
}

/** The dispute of an approval, if one was ever opened (there is at most one). */
export async function findDisputeOfApproval(conn: Conn, approvalId: string): Promise<Dispute | undefined> {
  const row = (await conn('disputes').where({ approval_id: approvalId }).first()) as Row | undefined;
  return row ? toDispute(row) : undefined;
}

/** One dispute with its payment, or undefined. */
export async function findDispute(conn: Conn, id: string): Promise<DisputeWithPayment | undefined> {
  const row = (await withPayment(conn).where('d.id', id).first()) as Row | undefined;
  return row ? toDisputeWithPayment(row) : undefined;
}

/** Locks a dispute's row for its decision (after the account and approval rows: lock-for-change's order). */
export async function lockDispute(conn: Conn, id: string): Promise<Dispute | undefined> {
  const row = (await conn('disputes').where({ id }).forUpdate().first()) as Row | undefined;
  return row ? toDispute(row) : undefined;
}

export async function recordDecision(
  conn: Conn,
  id: string,
  d: Pick<Dispute, 'status' | 'decidedBy' | 'decisionNote' | 'refundedAmount' | 'releasedAmount' | 'refundEntryId'>,
): Promise<void> {
  await conn('disputes').where({ id }).update({
    status: d.status,
    decided_at: conn.fn.now(),
    decided_by: d.decidedBy,
    decision_note: d.decisionNote,
    refunded_amount: d.refundedAmount,
    released_amount: d.releasedAmount,
    refund_entry_id: d.refundEntryId,
  });
}

/** An account's disputes, newest first: of its payments, and those its cards reported (a guardian's of a child's payment). */
export async function disputesOfAccount(conn: Conn, accountId: string, limit: number): Promise<DisputeWithPayment[]> {
  const rows = (await withPayment(conn)
    .where((q) => q.where('d.account_id', accountId).orWhereIn('d.card_id', conn('cards').select('id').where('account_id', accountId)))
    .orderBy('d.opened_at', 'desc')
    .limit(limit)) as Row[];
  return rows.map(toDisputeWithPayment);
}

/** Disputes for the operator, oldest first (the queue's order), optionally of one status. */
export async function listDisputes(conn: Conn, opts: { status?: DisputeStatus | undefined; limit: number }): Promise<DisputeWithPayment[]> {
  const q = withPayment(conn).orderBy('d.opened_at', 'asc').orderBy('d.id', 'asc').limit(opts.limit);
  if (opts.status) q.where('d.status', opts.status);
  return ((await q) as Row[]).map(toDisputeWithPayment);
}
