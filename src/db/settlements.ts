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
  /** Of these, the entries dated before the month (carried forward: committed after their own month was settled), and their net. */
  lateCount: number;
  lateNet: number;
}

/** A closed settlement: the amounts it posted (a month closed before chargebacks were told apart has them in refunds). */
export interface SettlementRow extends Omit<SiteActivity, 'refundCount' | 'chargebackCount' | 'lateCount' | 'lateNet'> {
  feeBasisPoints: number;
  fee: number;
  payout: number;
  entryId: number | null;
  createdAt: Date;
}

type Row = Record<string, unknown>;

/** A site's entries: its capture and refund entries, each with its posting on the site's payable account. */
const SITE_ENTRIES = `journal_entries e
     JOIN postings p ON p.entry_id = e.id
     JOIN ledger_accounts la ON la.id = p.ledger_account_id AND la.kind = 'payable'
     LEFT JOIN disputes d ON d.refund_entry_id = e.id`;

/**
 * The figures of a set of site entries (SITE_ENTRIES, with `x.from_at` the month's first instant): a refund entry an
 * upheld report of a payment names (disputes.refund_entry_id) is a chargeback, every other refund the site's own; an
 * entry dated before the month is late (carried forward from a month settled before it committed).
 */
const FIGURES = `COALESCE(-sum(p.amount) FILTER (WHERE e.kind = 'capture'), 0) AS captured,
       COALESCE(sum(p.amount) FILTER (WHERE e.kind = 'refund' AND d.id IS NULL), 0) AS refunds,
       count(DISTINCT e.id) FILTER (WHERE e.kind = 'refund' AND d.id IS NULL) AS refund_count,
       COALESCE(sum(p.amount) FILTER (WHERE e.kind = 'refund' AND d.id IS NOT NULL), 0) AS chargebacks,
       count(DISTINCT e.id) FILTER (WHERE e.kind = 'refund' AND d.id IS NOT NULL) AS chargeback_count,
       count(DISTINCT e.id) FILTER (WHERE e.created_at < x.from_at) AS late_count,
       COALESCE(-sum(p.amount) FILTER (WHERE e.created_at < x.from_at), 0) AS late_net`;

/**
 * The month's bounds as instants, and `carried_before`: the end of the latest month closed before it (of any site). A
 * site entry dated before that and taken by no settlement was committed after its month closed (or its site had
 * nothing else then): the month's settlement carries it forward. Entries of a month not closed yet wait for their own.
 */
const PERIOD = `x AS (
       SELECT (?::date)::timestamp AT TIME ZONE ?::text AS from_at, (?::date)::timestamp AT TIME ZONE ?::text AS to_at,
              (SELECT max(period_end_at) FROM settlements WHERE period_end <= ?::date) AS carried_before)`;

const periodBindings = (p: { start: string; end: string; timeZone: string }) => [p.start, p.timeZone, p.end, p.timeZone, p.start];

/** An entry a settlement of the month takes: taken by none yet, dated in the month or carried forward. */
const UNTAKEN = `e.kind IN ('capture', 'refund')
       AND NOT EXISTS (SELECT 1 FROM settlement_entries t WHERE t.entry_id = e.id)
       AND ((e.created_at >= x.from_at AND e.created_at < x.to_at) OR e.created_at < x.carried_before)`;

const activityOf = (x: Row): SiteActivity => ({
  clientId: x.client_id as string,
  siteName: x.site_name as string,
  currency: x.currency as string,
  captured: Number(x.captured),
  refunds: Number(x.refunds),
  refundCount: Number(x.refund_count),
  chargebacks: Number(x.chargebacks),
  chargebackCount: Number(x.chargeback_count),
  lateCount: Number(x.late_count),
  lateNet: Number(x.late_net),
});

/**
 * Per member site and currency, its settlement of the month starting `start` (midnight to midnight in `timeZone`),
 * read from the ledger: for a site the month is closed for, the entries its settlement took (settlement_entries); for
 * any other, the entries its settlement would take now (UNTAKEN): those dated in the month and those carried forward.
 */
export async function siteActivity(conn: Conn, p: { start: string; end: string; timeZone: string; clientId?: string | undefined }): Promise<SiteActivity[]> {
  // One site's (the member-site API's) reads that site's payable accounts only, through the same statement.
  const oneSite = p.clientId === undefined ? '' : 'AND la.owner_id = ?';
  const r = await conn.raw(
    `WITH ${PERIOD},
     done AS (SELECT id, client_id, currency FROM settlements WHERE period_start = ?::date),
     picked AS (
       SELECT t.entry_id, t.settlement_id FROM settlement_entries t JOIN done ON done.id = t.settlement_id
       UNION ALL
       SELECT e.id, NULL::bigint FROM x, journal_entries e WHERE ${UNTAKEN})
     SELECT la.owner_id AS client_id, COALESCE(ms.name, la.owner_id) AS site_name, la.currency, ${FIGURES}
     FROM x, picked k
     JOIN (${SITE_ENTRIES}) ON e.id = k.entry_id
     LEFT JOIN member_sites ms ON ms.client_id = la.owner_id
     LEFT JOIN done ON done.client_id = la.owner_id AND done.currency = la.currency
     WHERE k.settlement_id IS NOT DISTINCT FROM done.id
       ${oneSite}
     GROUP BY la.owner_id, ms.name, la.currency
     ORDER BY la.owner_id, la.currency`,
    [...periodBindings(p), p.start, ...(p.clientId === undefined ? [] : [p.clientId])],
  );
  return ((r as { rows: Row[] }).rows ?? []).map(activityOf);
}

/** The id the next settlement will have (its entries are linked before it is written: settlement_entries defers the key). */
export async function nextSettlementId(conn: Conn): Promise<number> {
  const r = (await conn.raw("SELECT nextval(pg_get_serial_sequence('settlements', 'id')) AS id")) as { rows: Row[] };
  return Number(r.rows[0]!.id);
}

/**
 * Links to settlement `settlementId` every entry of one site and currency that a settlement of the month takes
 * (UNTAKEN), in one statement, and returns what they add up to. A second settlement cannot take an entry again: the
 * entry is settlement_entries' key. Call holding the site's settlement lock.
 */
export async function takeSiteEntries(
  conn: Conn,
  p: { settlementId: number; clientId: string; currency: string; start: string; end: string; timeZone: string },
): Promise<SiteActivity> {
  await conn.raw(
    `WITH ${PERIOD}
     INSERT INTO settlement_entries (entry_id, settlement_id)
     SELECT DISTINCT e.id, ?::bigint FROM x, ${SITE_ENTRIES}
     WHERE la.owner_id = ? AND la.currency = ? AND ${UNTAKEN}`,
    [...periodBindings(p), p.settlementId, p.clientId, p.currency],
  );
  const r = (await conn.raw(
    `WITH ${PERIOD}
     SELECT ?::text AS client_id, ?::text AS site_name, ?::text AS currency, ${FIGURES}
     FROM x, settlement_entries t JOIN (${SITE_ENTRIES}) ON e.id = t.entry_id
     WHERE t.settlement_id = ?::bigint AND la.owner_id = ? AND la.currency = ?`,
    [...periodBindings(p), p.clientId, p.clientId, p.currency, p.settlementId, p.clientId, p.currency],
  )) as { rows: Row[] };
  return activityOf(r.rows[0]!);
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
  s: { id: number; clientId: string; start: string; end: string; timeZone: string; currency: string; captured: number; refunds: number; chargebacks: number; feeBasisPoints: number; fee: number; payout: number; entryId: number | null },
): Promise<boolean> {
  const rows = (await conn('settlements')
    .insert({
      id: s.id,
      client_id: s.clientId,
      period_start: s.start,
      period_end: s.end,
      period_start_at: conn.raw('(?::date)::timestamp AT TIME ZONE ?::text', [s.start, s.timeZone]),
      period_end_at: conn.raw('(?::date)::timestamp AT TIME ZONE ?::text', [s.end, s.timeZone]),
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
