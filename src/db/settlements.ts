import type { Conn } from './knex.ts';

export interface SiteActivity {
  clientId: string;
  siteName: string;
  currency: string;
  captured: number;
  /** The site's own refunds (approvals/refund.ts), and how many. */
  refunds: number;
  refundCount: number;
  /** Refunds the operator gave on a holder's report of a payment (approvals/decide-dispute.ts), and how many. */
  chargebacks: number;
  chargebackCount: number;
}

/** A closed settlement: the amounts it posted (a month closed before chargebacks were told apart has them in refunds). */
export interface SettlementRow extends Omit<SiteActivity, 'refundCount' | 'chargebackCount'> {
  feeBasisPoints: number;
  fee: number;
  payout: number;
  entryId: number | null;
  createdAt: Date;
}

type Row = Record<string, unknown>;

/**
 * What each member site captured and refunded between two dates (midnight to midnight in `timeZone`),
 * read from the ledger: the capture and refund postings on each site's payable account. A refund entry an upheld
 * report of a payment names (disputes.refund_entry_id) is a chargeback; every other refund is the site's own.
 */
export async function siteActivity(conn: Conn, p: { start: string; end: string; timeZone: string; clientId?: string | undefined }): Promise<SiteActivity[]> {
  // One site's (the member-site API's) reads that site's payable accounts only, through the same statement.
  const oneSite = p.clientId === undefined ? '' : 'AND la.owner_id = ?';
  const r = await conn.raw(
    `SELECT la.owner_id AS client_id, COALESCE(ms.name, la.owner_id) AS site_name, la.currency,
       COALESCE(-sum(p.amount) FILTER (WHERE e.kind = 'capture'), 0) AS captured,
       COALESCE(sum(p.amount) FILTER (WHERE e.kind = 'refund' AND d.id IS NULL), 0) AS refunds,
       count(DISTINCT e.id) FILTER (WHERE e.kind = 'refund' AND d.id IS NULL) AS refund_count,
       COALESCE(sum(p.amount) FILTER (WHERE e.kind = 'refund' AND d.id IS NOT NULL), 0) AS chargebacks,
       count(DISTINCT e.id) FILTER (WHERE e.kind = 'refund' AND d.id IS NOT NULL) AS chargeback_count
     FROM journal_entries e
     JOIN postings p ON p.entry_id = e.id
     JOIN ledger_accounts la ON la.id = p.ledger_account_id AND la.kind = 'payable'
     LEFT JOIN member_sites ms ON ms.client_id = la.owner_id
     LEFT JOIN disputes d ON d.refund_entry_id = e.id
     WHERE e.kind IN ('capture', 'refund')
       AND e.created_at >= (?::date)::timestamp AT TIME ZONE ?::text
       AND e.created_at < (?::date)::timestamp AT TIME ZONE ?::text
       ${oneSite}
     GROUP BY la.owner_id, ms.name, la.currency
     ORDER BY la.owner_id, la.currency`,
    [p.start, p.timeZone, p.end, p.timeZone, ...(p.clientId === undefined ? [] : [p.clientId])],
  );
  return ((r as { rows: Row[] }).rows ?? []).map((x) => ({
    clientId: x.client_id as string,
    siteName: x.site_name as string,
    currency: x.currency as string,
    captured: Number(x.captured),
    refunds: Number(x.refunds),
    refundCount: Number(x.refund_count),
    chargebacks: Number(x.chargebacks),
    chargebackCount: Number(x.chargeback_count),
  }));
}

/** Settlements already closed for the month starting `start` (of one site, given `clientId`). */
export async function settlementsFor(conn: Conn, start: string, clientId?: string): Promise<SettlementRow[]> {
  const q = conn('settlements as s')
    .leftJoin('member_sites as ms', 'ms.client_id', 's.client_id')
    .select('s.*', 'ms.name as site_name')
    .where('s.period_start', start);
  if (clientId !== undefined) q.where('s.client_id', clientId);
  const rows = (await q.orderBy(['s.client_id', 's.currency'])) as Row[];
  return rows.map((x) => ({
    clientId: x.client_id as string,
    siteName: (x.site_name as string | null) ?? (x.client_id as string),
    currency: x.currency as string,
    captured: Number(x.captured),
    refunds: Number(x.refunds),
    chargebacks: Number(x.chargebacks),
    feeBasisPoints: Number(x.fee_basis_points),
    fee: Number(x.fee),
    payout: Number(x.payout),
    entryId: x.entry_id === null || x.entry_id === undefined ? null : Number(x.entry_id),
    createdAt: new Date(x.created_at as string),
  }));
}

export async function insertSettlement(
  conn: Conn,
  s: { clientId: string; start: string; end: string; currency: string; captured: number; refunds: number; chargebacks: number; feeBasisPoints: number; fee: number; payout: number; entryId: number | null },
): Promise<boolean> {
  const rows = (await conn('settlements')
    .insert({
      client_id: s.clientId,
      period_start: s.start,
      period_end: s.end,
      currency: s.currency,
      captured: s.captured,
      refunds: s.refunds,
      chargebacks: s.chargebacks,
      fee_basis_points: s.feeBasisPoints,
      fee: s.fee,
      payout: s.payout,
      entry_id: s.entryId,
    })
    .onConflict(['client_id', 'period_start', 'currency'])
    .ignore()
    .returning('id')) as unknown[];
  return rows.length === 1;
}
