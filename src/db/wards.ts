import type { ApprovalStatus } from './approvals.ts';
import type { CardStatus } from './cards.ts';
import type { Conn } from './knex.ts';
import { MONTH_START_SQL, stillCostSql } from './spending-controls.ts';

type Row = Record<string, unknown>;

/** A guardian's ward as the guardian's overview reads it: the account's figures and its current card. */
export interface WardSummary {
  accountId: string;
  legalName: string;
  currency: string;
  creditLimit: number;
  postedBalance: number;
  /** Held by active holds: those past their expiry the sweep has not released yet are left out. */
  heldAmount: number;
  /** The newest card of the account (the one a reissue left), null if it never had one. */
  card: { last4: string; status: CardStatus } | null;
  /** What the approvals of this calendar month (in the time zone) still cost, as the monthly cap counts it. */
  approvedThisMonth: number;
}

/** One of a ward's latest approvals, with the member site's name. */
export interface WardApproval {
  accountId: string;
  approvalNo: string;
  createdAt: Date;
  siteName: string;
  amount: number;
  currency: string;
  status: ApprovalStatus;
  capturedAmount: number;
  refundedAmount: number;
  releasedAmount: number;
  holdExpiresAt: Date;
  /** The report of this payment (the child's or the guardian's), if one was made. */
  reportStatus: string | null;
}

/**
 * Every account whose guardian is `guardianId`, youngest last, with its current card and this month's approvals,
 * in one statement (the month in `timeZone`, as db/spending-controls.ts monthSpend counts it).
 */
export async function wardSummaries(conn: Conn, guardianId: string, timeZone: string): Promise<WardSummary[]> {
  const rows = (await conn('accounts as a')
    .joinRaw('LEFT JOIN LATERAL (SELECT c.last4, c.status FROM cards c WHERE c.account_id = a.id ORDER BY c.created_at DESC, c.id DESC LIMIT 1) AS card ON true')
    .select(
      'a.id',
      'a.legal_name',
      'a.currency',
      'a.credit_limit',
      'a.posted_balance',
      'a.held_amount',
      'card.last4',
      'card.status',
      conn.raw(
        `(SELECT ${stillCostSql('p.')} FROM approvals p WHERE p.account_id = a.id AND p.created_at >= ${MONTH_START_SQL}) AS approved_this_month`,
        [timeZone, timeZone],
      ),
      // What holds past their expiry still hold until the sweep releases them: no longer active (approvals/expire.ts).
      conn.raw(
        `(SELECT COALESCE(sum(p.amount - p.captured_amount - p.released_amount), 0) FROM approvals p
          WHERE p.account_id = a.id AND p.status = 'approved' AND p.hold_expires_at <= now()) AS lapsed_held`,
      ),
    )
    .where('a.guardian_account_id', guardianId)
    .orderBy([{ column: 'a.birthdate' }, { column: 'a.legal_name' }, { column: 'a.id' }])) as Row[];
  return rows.map((r) => ({
    accountId: r.id as string,
    legalName: r.legal_name as string,
    currency: r.currency as string,
    creditLimit: Number(r.credit_limit),
    postedBalance: Number(r.posted_balance),
    heldAmount: Number(r.held_amount) - Number(r.lapsed_held),
    card: r.last4 === null || r.last4 === undefined ? null : { last4: r.last4 as string, status: r.status as CardStatus },
    approvedThisMonth: Number(r.approved_this_month),
  }));
}

/** The latest `perAccount` approvals of each account, newest first, in one statement. */
export async function latestApprovalsOf(conn: Conn, accountIds: readonly string[], perAccount: number): Promise<WardApproval[]> {
  if (accountIds.length === 0) return [];
  const ranked = conn('approvals as p')
    .join('member_sites as s', 's.client_id', 'p.client_id')
    .leftJoin('disputes as d', 'd.approval_id', 'p.id')
    .select(
      'p.account_id',
      'p.approval_no',
      'p.created_at',
      'p.amount',
      'p.currency',
      'p.status',
      'p.captured_amount',
      'p.refunded_amount',
      'p.released_amount',
      'p.hold_expires_at',
      'd.status as report_status',
      's.name as site_name',
      conn.raw('row_number() OVER (PARTITION BY p.account_id ORDER BY p.created_at DESC, p.id DESC) AS n'),
    )
    .whereIn('p.account_id', accountIds);
  const rows = (await conn.select('*').from(ranked.as('r')).where('r.n', '<=', perAccount).orderBy([{ column: 'r.account_id' }, { column: 'r.n' }])) as Row[];
  return rows.map((r) => ({
    accountId: r.account_id as string,
    approvalNo: r.approval_no as string,
    createdAt: new Date(r.created_at as string),
    siteName: r.site_name as string,
    amount: Number(r.amount),
    currency: r.currency as string,
    status: r.status as ApprovalStatus,
    capturedAmount: Number(r.captured_amount),
    refundedAmount: Number(r.refunded_amount),
    releasedAmount: Number(r.released_amount),
    holdExpiresAt: new Date(r.hold_expires_at as string),
    reportStatus: (r.report_status as string | null) ?? null,
  }));
}

/** Whether any account has `guardianId` as its guardian: one EXISTS on the guardian index (every holder page asks it). */
export async function hasWards(conn: Conn, guardianId: string): Promise<boolean> {
  const r = await conn.raw('SELECT EXISTS (SELECT 1 FROM accounts WHERE guardian_account_id = ?) AS has_wards', [guardianId]);
  return Boolean((r.rows as Row[])[0]?.has_wards);
}

/** Whether `guardianId` is the guardian of account `wardId` now (a released ward's former guardian is not). */
export async function isGuardianOf(conn: Conn, guardianId: string, wardId: string): Promise<boolean> {
  return (await conn('accounts').where({ id: wardId, guardian_account_id: guardianId }).first('id')) !== undefined;
}
