import type { Knex } from 'knex';
import { disputeSummaryColumnsAs, disputeSummaryFromColumnsAs, type DisputeStatus, type DisputeSummary } from './disputes.ts';
import type { Conn } from './knex.ts';

export type ApprovalStatus = 'approved' | 'captured' | 'voided' | 'expired' | 'revoked';

export interface Approval {
  id: string;
  approvalNo: string;
  accountId: string;
  cardId: string;
  clientId: string;
  status: ApprovalStatus;
  amount: number;
  currency: string;
  capturedAmount: number;
  refundedAmount: number;
  releasedAmount: number;
  description: string;
  contentRef: string | null;
  rating: number;
  holdExpiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
  statusReason: string | null;
}

type Row = Record<string, unknown>;

/** The columns toApproval reads. */
const APPROVAL_COLUMNS = [
  'id',
  'approval_no',
  'account_id',
  'card_id',
  'client_id',
  'status',
  'amount',
  'currency',
  'captured_amount',
  'refunded_amount',
  'released_amount',
  'description',
  'content_ref',
  'rating',
  'hold_expires_at',
  'created_at',
  'updated_at',
  'status_reason',
] as const;

/**
 * For a query that selects an approval beside another table's row (whose column names clash with its
 * own): every column toApproval reads, as `<alias>.<column> as <prefix><column>`.
 */
export function approvalColumnsAs(alias: string, prefix: string): string[] {
  return APPROVAL_COLUMNS.map((c) => `${alias}.${c} as ${prefix}${c}`);
}

/** The approval selected with approvalColumnsAs, or undefined when an outer join found none. */
export function approvalFromColumnsAs(r: Row, prefix: string): Approval | undefined {
  if (r[`${prefix}id`] === null || r[`${prefix}id`] === undefined) return undefined;
  const own: Row = {};
  for (const c of APPROVAL_COLUMNS) own[c] = r[`${prefix}${c}`];
  return toApproval(own);
}

function toApproval(r: Row): Approval {
  return {
    id: r.id as string,
    approvalNo: r.approval_no as string,
    accountId: r.account_id as string,
    cardId: r.card_id as string,
    clientId: r.client_id as string,
    status: r.status as ApprovalStatus,
    amount: Number(r.amount),
    currency: r.currency as string,
    capturedAmount: Number(r.captured_amount),
    refundedAmount: Number(r.refunded_amount),
    releasedAmount: Number(r.released_amount),
    description: r.description as string,
    contentRef: (r.content_ref as string | null) ?? null,
    rating: Number(r.rating),
    holdExpiresAt: new Date(r.hold_expires_at as string),
    createdAt: new Date(r.created_at as string),
    updatedAt: new Date(r.updated_at as string),
    statusReason: (r.status_reason as string | null) ?? null,
  };
}

/**
 * Inserts an approval, or nothing (undefined) when its number is taken already or, with
 * `interactionUid`, that hosted interaction already has one (the unique index: a concurrent twin waits for
 * the first to commit, then inserts nothing). One statement, and no error to abort the transaction.
 */
export async function insertApproval(
  conn: Conn,
  a: Omit<Approval, 'capturedAmount' | 'refundedAmount' | 'releasedAmount' | 'createdAt' | 'updatedAt' | 'statusReason' | 'holdExpiresAt'> & {
    holdSeconds: number;
    interactionUid?: string | undefined;
    requestKey?: string | undefined;
  },
): Promise<Approval | undefined> {
  const [row] = (await conn('approvals')
    .insert({
      id: a.id,
      approval_no: a.approvalNo,
      account_id: a.accountId,
      card_id: a.cardId,
      client_id: a.clientId,
      status: a.status,
      amount: a.amount,
      currency: a.currency,
      description: a.description,
      content_ref: a.contentRef,
      rating: a.rating,
      hold_expires_at: conn.raw('now() + make_interval(secs => ?)', [a.holdSeconds]),
      interaction_uid: a.interactionUid ?? null,
      request_key: a.requestKey ?? null,
    })
    .onConflict()
    .ignore()
    .returning([...APPROVAL_COLUMNS])) as Row[];
  return row ? toApproval(row) : undefined;
}

/** Whether the member site's authorization request `requestKey` has an approval already. */
export async function requestHasApproval(conn: Conn, clientId: string, requestKey: string): Promise<boolean> {
  return Boolean(await conn('approvals').select('id').where({ client_id: clientId, request_key: requestKey }).first());
}

/** Whether this hosted interaction has an approval already. */
export async function interactionHasApproval(conn: Conn, interactionUid: string): Promise<boolean> {
  return (await siteOfInteractionApproval(conn, interactionUid)) !== undefined;
}

/** The member site whose payment this hosted interaction approved, if it approved one. */
export async function siteOfInteractionApproval(conn: Conn, interactionUid: string): Promise<string | undefined> {
  const row = (await conn('approvals').select('client_id').where({ interaction_uid: interactionUid }).first()) as { client_id: string } | undefined;
  return row?.client_id;
}

export async function findApprovalByNo(conn: Conn, approvalNo: string): Promise<Approval | undefined> {
  const r = (await conn('approvals').where({ approval_no: approvalNo }).first()) as Row | undefined;
  return r ? toApproval(r) : undefined;
}

/** Locks the approval row for a change to it (capture, void, refund, revoke, expire). */
export async function lockApproval(conn: Conn, id: string): Promise<Approval | undefined> {
  const r = (await conn('approvals').where({ id }).forUpdate().first()) as Row | undefined;
  return r ? toApproval(r) : undefined;
}

export async function updateApproval(
  conn: Conn,
  id: string,
  change: Partial<Pick<Approval, 'status' | 'capturedAmount' | 'refundedAmount' | 'releasedAmount' | 'statusReason'>>,
): Promise<void> {
  const u: Row = { updated_at: conn.fn.now() };
  if (change.status !== undefined) u.status = change.status;
  if (change.capturedAmount !== undefined) u.captured_amount = change.capturedAmount;
  if (change.refundedAmount !== undefined) u.refunded_amount = change.refundedAmount;
  if (change.releasedAmount !== undefined) u.released_amount = change.releasedAmount;
  if (change.statusReason !== undefined) u.status_reason = change.statusReason;
  await conn('approvals').where({ id }).update(u);
}

/** Open (holding) approvals of an account, oldest first. */
export async function openApprovalsForAccount(conn: Conn, accountId: string): Promise<Approval[]> {
  const rows = (await conn('approvals').where({ account_id: accountId, status: 'approved' }).orderBy('created_at')) as Row[];
  return rows.map(toApproval);
}

/** Open approvals made with one card (a lost-card block revokes them). */
export async function openApprovalsForCard(conn: Conn, cardId: string): Promise<Approval[]> {
  const rows = (await conn('approvals').where({ card_id: cardId, status: 'approved' }).orderBy('created_at')) as Row[];
  return rows.map(toApproval);
}

/**
 * Locks up to `limit` open holds past their expiry together with their holders' account rows, skipping
 * any row another transaction holds: several instances can sweep at once without waiting on each other
 * or on a capture (which takes the account row first), so the sweep can never deadlock.
 */
export async function lockExpiredHolds(conn: Conn, limit: number): Promise<Approval[]> {
  const rows = (await conn('approvals as a')
    .join('accounts as c', 'c.id', 'a.account_id')
    .select('a.*')
    .where('a.status', 'approved')
    .andWhere('a.hold_expires_at', '<=', conn.fn.now())
    .orderBy('a.hold_expires_at')
    .limit(limit)
    .forUpdate('a', 'c')
    .skipLocked()) as Row[];
  return rows.map(toApproval);
}

/**
 * One account's open holds past their expiry, locked. The caller holds the account row already (approve()), so it
 * takes them in the order every change does, account then approval, and waits rather than skips: a capture of one
 * of them can only be refusing it (hold_expired) and will let go.
 */
export async function lockExpiredHoldsOfAccount(conn: Conn, accountId: string): Promise<Approval[]> {
  const rows = (await conn('approvals')
    .where({ account_id: accountId, status: 'approved' })
    .andWhere('hold_expires_at', '<=', conn.fn.now())
    .orderBy('hold_expires_at')
    .forUpdate()) as Row[];
  return rows.map(toApproval);
}

/** What an account's holds past their expiry still hold, not yet released by the sweep (approvals/expire.ts). */
export async function lapsedHeldAmount(conn: Conn, accountId: string): Promise<number> {
  const r = (await conn('approvals')
    .where({ account_id: accountId, status: 'approved' })
    .andWhere('hold_expires_at', '<=', conn.fn.now())
    .sum({ n: conn.raw('amount - captured_amount - released_amount') })
    .first()) as { n: unknown } | undefined;
  return Number(r?.n ?? 0);
}

/**
 * The latest approvals of an account (any status), newest first, with the member site's name and the id and status
 * of the holder's report of each (disputes, at most one per approval), null where none.
 */
export async function recentApprovalsForAccount(
  conn: Conn,
  accountId: string,
  limit: number,
): Promise<Array<Approval & { siteName: string; reportId: string | null; reportStatus: DisputeStatus | null }>> {
  const rows = (await conn('approvals as a')
    .join('member_sites as s', 's.client_id', 'a.client_id')
    .leftJoin('disputes as d', 'd.approval_id', 'a.id')
    .select('a.*', 's.name as site_name', 'd.id as report_id', 'd.status as report_status')
    .where('a.account_id', accountId)
    .orderBy('a.created_at', 'desc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({
    ...toApproval(r),
    siteName: r.site_name as string,
    reportId: (r.report_id as string | null) ?? null,
    reportStatus: (r.report_status as DisputeStatus | null) ?? null,
  }));
}

/** How many approvals a member site was given in the last `days` days, any status (index client_id, created_at, id). */
export async function countSiteApprovalsSince(conn: Conn, clientId: string, days: number): Promise<number> {
  const row = (await conn('approvals')
    .where('client_id', clientId)
    .andWhere('created_at', '>=', conn.raw('now() - make_interval(days => ?)', [days]))
    .count({ n: '*' })
    .first()) as Row | undefined;
  return Number(row?.n ?? 0);
}

/** Which of a member site's approvals a page lists (see siteApprovalsPage). */
export interface SiteApprovalFilter {
  clientId: string;
  /** Created at or after this instant (ISO 8601 with an offset). */
  since?: string | undefined;
  /** Created before this instant. */
  until?: string | undefined;
  /** The status in effect at `now`, as the API presents it (approvals/present.ts statusInEffect). */
  status?: ApprovalStatus | undefined;
  now: Date;
}

/** Where a page ends: its last approval's creation instant (exact, to the microsecond, in UTC) and id. */
export interface PagePosition {
  createdAt: string;
  id: string;
}

/**
 * One page of a member site's approvals, newest first, each with the holder's report of it (if any) and its position
 * for the next page: one statement, a keyset walk of the index on (client_id, created_at, id) from before `after`,
 * id breaking ties of the instant. The position is read as text, since a JS Date would lose the microseconds and
 * the walk would skip or repeat rows created in the same millisecond.
 */
export async function siteApprovalsPage(
  conn: Conn,
  f: SiteApprovalFilter,
  after: PagePosition | undefined,
  limit: number,
): Promise<Array<{ approval: Approval; dispute: DisputeSummary | undefined; position: PagePosition }>> {
  const q = conn('approvals as a')
    .leftJoin('disputes as d', 'd.approval_id', 'a.id')
    .select([
      ...approvalColumnsAs('a', 'approval__'),
      ...disputeSummaryColumnsAs('d', 'dispute__'),
      conn.raw(`to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as position_at`),
    ])
    .where('a.client_id', f.clientId);
  if (f.since !== undefined) q.where('a.created_at', '>=', f.since);
  if (f.until !== undefined) q.where('a.created_at', '<', f.until);
  if (f.status !== undefined) whereStatusInEffect(q, f.status, f.now);
  // A row comparison, so that the index on (client_id, created_at, id) starts its backward scan right at the cursor.
  if (after) q.whereRaw('(a.created_at, a.id) < (?::timestamptz, ?::uuid)', [after.createdAt, after.id]);
  const rows = (await q.orderBy([{ column: 'a.created_at', order: 'desc' }, { column: 'a.id', order: 'desc' }]).limit(limit)) as Row[];
  return rows.map((r) => ({
    approval: approvalFromColumnsAs(r, 'approval__')!,
    dispute: disputeSummaryFromColumnsAs(r, 'dispute__'),
    position: { createdAt: r.position_at as string, id: r.approval__id as string },
  }));
}

/**
 * The approvals whose status in effect at `now` is `status`: a hold past its hold_expires_at reads as expired, or as
 * captured when part of it was, before the sweep writes it so (statusInEffect), and the filter answers as the listing reads.
 */
function whereStatusInEffect(q: Knex.QueryBuilder, status: ApprovalStatus, now: Date): void {
  const lapsed = (b: Knex.QueryBuilder, captured: boolean) =>
    b.where('a.status', 'approved').where('a.hold_expires_at', '<=', now).where('a.captured_amount', captured ? '>' : '=', 0);
  if (status === 'approved') q.where('a.status', 'approved').where('a.hold_expires_at', '>', now);
  else if (status === 'captured' || status === 'expired') q.where((b) => b.where('a.status', status).orWhere((c) => lapsed(c, status === 'captured')));
  else q.where('a.status', status);
}
