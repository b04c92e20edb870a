import type { Conn, Trx } from './knex.ts';
import { dateString } from './rows.ts';

export interface Statement {
  id: number;
  accountId: string;
  statementDate: string;
  periodStart: Date;
  periodEnd: Date;
  currency: string;
  openingBalance: number;
  charges: number;
  refunds: number;
  repayments: number;
  /** Credit balance paid back to the holder: raises the closing balance (toward zero from a credit). */
  payouts: number;
  closingBalance: number;
  dueDate: string;
  paymentReference: string;
  createdAt: Date;
}

export interface StatementLine {
  entryId: number;
  kind: 'charge' | 'refund' | 'repayment' | 'payout';
  bookedAt: Date;
  amount: number;
  approvalNo: string | null;
  clientId: string | null;
  siteName: string | null;
  description: string;
}

type Row = Record<string, unknown>;

function toStatement(r: Row): Statement {
  return {
    id: Number(r.id),
    accountId: r.account_id as string,
    statementDate: dateString(r.statement_date),
    periodStart: new Date(r.period_start as string),
    periodEnd: new Date(r.period_end as string),
    currency: r.currency as string,
    openingBalance: Number(r.opening_balance),
    charges: Number(r.charges),
    refunds: Number(r.refunds),
    repayments: Number(r.repayments),
    payouts: Number(r.payouts ?? 0),
    closingBalance: Number(r.closing_balance),
    dueDate: dateString(r.due_date),
    paymentReference: r.payment_reference as string,
    createdAt: new Date(r.created_at as string),
  };
}

/** The next `limit` account ids after `after` (keyset pagination: flat memory over any number of accounts). */
export async function nextAccountIds(conn: Conn, after: string | null, limit: number): Promise<string[]> {
  const q = conn('accounts').select('id').orderBy('id').limit(limit);
  if (after) q.where('id', '>', after);
  return ((await q) as Array<{ id: string }>).map((r) => r.id);
}

export interface CloseBatch {
  accountIds: readonly string[];
  /** The run's date: each account's statement date is the latest of its statement days on or before it. */
  date: string;
  /** Period end instant; null: midnight starting the statement date in `timeZone`. */
  cutoff: Date | null;
  timeZone: string;
  dueDays: number;
  settleSeconds: number;
  /**
   * How to take the due accounts' row locks: `skip` passes over an account whose row another transaction holds (it is
   * returned as `busy`, for the caller to close on its own), `wait` waits for it.
   */
  locks: 'skip' | 'wait';
}

/**
 * Whose statement day an account (alias `a`) is billed on, as alias `s`: its own, or a ward's guardian's (the guardian
 * answers for the ward's card, and the two statements fall due together). A join on the primary key.
 */
const SCHEDULE_SOURCE = 'JOIN accounts s ON s.id = COALESCE(a.guardian_account_id, a.id)';

/**
 * The day (of `s`, see SCHEDULE_SOURCE) whose statement date a run on `date` closes: the day chosen, except for
 * dates before the first statement date on it after a change, which keep the day in force before. So a change
 * alters no statement date up to the day it is made, and the period then running closes on whichever comes first.
 */
const DAY_ON = (date: string) =>
  `CASE WHEN s.statement_day_from IS NULL OR ${date} >= s.statement_day_from THEN s.statement_day ELSE s.previous_statement_day END`;

/** The batch's accounts whose period is due to close (see closeStatementsBatch), as CTEs ending in `ready`. */
const READY = `params AS (
       SELECT ?::date AS d, ?::timestamptz AS cutoff, ?::text AS tz, ?::int AS due_days, ?::int AS settle, ?::uuid[] AS ids
     ), acc AS (
       SELECT a.id, a.currency, a.payment_reference, a.created_at, a.email, a.mobile, a.locale, p.tz, p.due_days, p.settle, p.cutoff,
         CASE WHEN make_date(extract(year FROM p.d)::int, extract(month FROM p.d)::int, x.day) <= p.d
              THEN make_date(extract(year FROM p.d)::int, extract(month FROM p.d)::int, x.day)
              ELSE (make_date(extract(year FROM p.d)::int, extract(month FROM p.d)::int, x.day) - interval '1 month')::date
         END AS statement_date
       FROM params p JOIN accounts a ON a.id = ANY (p.ids)
       ${SCHEDULE_SOURCE}
       CROSS JOIN LATERAL (SELECT ${DAY_ON('p.d')} AS day) x
     ), due AS (
       SELECT acc.*, COALESCE(acc.cutoff, acc.statement_date::timestamp AT TIME ZONE acc.tz) AS period_end,
         COALESCE(prev.period_end, acc.created_at) AS period_start, COALESCE(prev.closing_balance, 0) AS opening
       FROM acc LEFT JOIN LATERAL (
         SELECT s.statement_date, s.period_end, s.closing_balance FROM statements s
         WHERE s.account_id = acc.id ORDER BY s.statement_date DESC LIMIT 1
       ) prev ON true
       WHERE prev.statement_date IS NULL OR prev.statement_date < acc.statement_date
     ), ready AS (
       SELECT * FROM due WHERE period_end > period_start AND period_end <= now() - make_interval(secs => settle)
     )`;

/** closeStatementsBatch's bindings for READY, in order. */
const readyBindings = (b: CloseBatch) => [b.date, b.cutoff, b.timeZone, b.dueDays, b.settleSeconds, [...b.accountIds]];

/**
 * Closes, in ONE set-based statement, the due period of each of these accounts: a statement with its
 * opening balance (the previous statement's closing), every receivable movement of the period as a
 * line (charges with date, member site, description and approval number; refunds; repayments; payouts of a credit balance), the
 * closing balance and due date, and a `statement_ready` message in the outbox. Due means: no statement
 * yet for that statement date, the period ended at least `settleSeconds` ago, and something to show
 * (a balance or a movement). ON CONFLICT on (account, statement date) makes a concurrent or repeated
 * run add nothing. Returns how many statements and lines were written.
 *
 * No entry of a period can commit after its statement: the due accounts' rows are locked first (FOR SHARE, in a
 * statement of its own, so the closing statement after it reads what committed meanwhile). Every posting to a
 * holder's receivable is made under that row's lock (FOR UPDATE: credit-lines.ts, approvals/moves.ts) and its entry
 * dated when it is written (db/ledger.ts insertEntry), so a posting either holds the row now, and the closing waits
 * for its commit and bills it, or takes the row after the statement committed, and is dated in the next period. An
 * account whose row is held is skipped with `locks: 'skip'` and returned in `busy` (a batch never waits on a
 * payment, nor meets a guardian's and ward's locks in another order); `locks: 'wait'` waits for it.
 */
export async function closeStatementsBatch(trx: Trx, b: CloseBatch): Promise<{ statements: number; lines: number; busy: string[] }> {
  const lock = b.locks === 'skip' ? 'FOR SHARE SKIP LOCKED' : 'FOR SHARE';
  // The periods are worked out here, once, and handed to the closing as they are: the run's advisory lock keeps
  // another run from closing a statement meanwhile, and a change of statement day moves no date up to the day it is
  // made. Instants as text, so they come back to the microsecond.
  const found = (await trx.raw(
    `WITH ${READY}, l AS MATERIALIZED (SELECT a.id FROM accounts a WHERE a.id IN (SELECT id FROM ready) ORDER BY a.id ${lock})
     SELECT r.id::text AS id, l.id IS NOT NULL AS locked, r.statement_date::text AS statement_date, r.period_start::text AS period_start,
       r.period_end::text AS period_end, r.opening
     FROM ready r LEFT JOIN l ON l.id = r.id ORDER BY r.id`,
    readyBindings(b),
  )) as { rows: Array<{ id: string; locked: boolean; statement_date: string; period_start: string; period_end: string; opening: number | string }> };
  const busy = found.rows.filter((x) => !x.locked).map((x) => x.id);
  const due = found.rows.filter((x) => x.locked);
  if (due.length === 0) return { statements: 0, lines: 0, busy };
  const r = await trx.raw(
    `WITH ready AS (
       SELECT x.id, x.statement_date, x.period_start, x.period_end, x.opening, ?::int AS due_days,
         a.currency, a.payment_reference, a.email, a.mobile, a.locale
       FROM unnest(?::uuid[], ?::date[], ?::timestamptz[], ?::timestamptz[], ?::bigint[]) AS x (id, statement_date, period_start, period_end, opening)
       JOIN accounts a ON a.id = x.id
     ), moves AS (
       SELECT r.id AS account_id, e.id AS entry_id, e.kind, e.created_at, e.approval_id, e.memo, p.amount
       FROM ready r
       JOIN ledger_accounts la ON la.kind = 'receivable' AND la.owner_id = r.id::text AND la.currency = r.currency
       JOIN postings p ON p.ledger_account_id = la.id
       JOIN journal_entries e ON e.id = p.entry_id AND e.created_at >= r.period_start AND e.created_at < r.period_end
     ), sums AS (
       SELECT account_id, count(*) AS n, sum(amount) AS net,
         COALESCE(sum(amount) FILTER (WHERE kind = 'capture'), 0) AS charges,
         COALESCE(-sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunds,
         COALESCE(-sum(amount) FILTER (WHERE kind = 'repayment'), 0) AS repayments,
         COALESCE(sum(amount) FILTER (WHERE kind = 'payout'), 0) AS payouts
       FROM moves GROUP BY account_id
     ), ins AS (
       INSERT INTO statements (account_id, statement_date, period_start, period_end, currency, opening_balance,
         charges, refunds, repayments, payouts, closing_balance, due_date, payment_reference)
       SELECT r.id, r.statement_date, r.period_start, r.period_end, r.currency, r.opening,
         COALESCE(s.charges, 0), COALESCE(s.refunds, 0), COALESCE(s.repayments, 0), COALESCE(s.payouts, 0), r.opening + COALESCE(s.net, 0),
         r.statement_date + r.due_days, r.payment_reference
       FROM ready r LEFT JOIN sums s ON s.account_id = r.id
       WHERE r.opening <> 0 OR s.n > 0
       ON CONFLICT (account_id, statement_date) DO NOTHING
       RETURNING id, account_id, statement_date, closing_balance, due_date, currency, payment_reference
     ), lines AS (
       INSERT INTO statement_lines (statement_id, entry_id, kind, booked_at, amount, approval_no, client_id, site_name, description)
       SELECT ins.id, m.entry_id, CASE m.kind WHEN 'capture' THEN 'charge' ELSE m.kind END, m.created_at, abs(m.amount),
         ap.approval_no, ap.client_id, ms.name, COALESCE(ap.description, m.memo)
       FROM ins JOIN moves m ON m.account_id = ins.account_id
       LEFT JOIN approvals ap ON ap.id = m.approval_id
       LEFT JOIN member_sites ms ON ms.client_id = ap.client_id
       RETURNING 1
     ), notes AS (
       INSERT INTO notifications_outbox (account_id, channel, recipient, template, locale, data)
       SELECT ins.account_id, ch.channel, ch.recipient, 'statement_ready', acc.locale,
         jsonb_build_object('statementDate', ins.statement_date, 'closing', ins.closing_balance, 'currency', ins.currency,
                            'dueDate', ins.due_date, 'reference', ins.payment_reference)
       FROM ins JOIN ready acc ON acc.id = ins.account_id
       CROSS JOIN LATERAL (VALUES ('email', acc.email), ('sms', acc.mobile)) AS ch (channel, recipient)
       WHERE ch.recipient IS NOT NULL
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM ins) AS statements, (SELECT count(*) FROM lines) AS lines, (SELECT count(*) FROM notes) AS notes`,
    [
      b.dueDays,
      due.map((x) => x.id),
      due.map((x) => x.statement_date),
      due.map((x) => x.period_start),
      due.map((x) => x.period_end),
      due.map((x) => String(x.opening)),
    ],
  );
  const row = (r as { rows: Row[] }).rows[0]!;
  return { statements: Number(row.statements), lines: Number(row.lines), busy };
}

/** An account's statements, newest first. */
export async function listStatements(conn: Conn, accountId: string, limit: number): Promise<Statement[]> {
  const rows = (await conn('statements').where({ account_id: accountId }).orderBy('statement_date', 'desc').limit(limit)) as Row[];
  return rows.map(toStatement);
}

export async function findStatement(conn: Conn, id: number): Promise<Statement | undefined> {
  const r = (await conn('statements').where({ id }).first()) as Row | undefined;
  return r ? toStatement(r) : undefined;
}

/** A statement's lines in booking order. */
export async function statementLines(conn: Conn, statementId: number): Promise<StatementLine[]> {
  const rows = (await conn('statement_lines').where({ statement_id: statementId }).orderBy(['booked_at', 'id'])) as Row[];
  return rows.map((r) => ({
    entryId: Number(r.entry_id),
    kind: r.kind as StatementLine['kind'],
    bookedAt: new Date(r.booked_at as string),
    amount: Number(r.amount),
    approvalNo: (r.approval_no as string | null) ?? null,
    clientId: (r.client_id as string | null) ?? null,
    siteName: (r.site_name as string | null) ?? null,
    description: r.description as string,
  }));
}

export interface OverdueStatement {
  /** The account whose statement is unpaid (the holder's own, the guardian's, a sibling's, or a ward's). */
  accountId: string;
  /**
   * Whose it is, seen from the account asked about: its own, its guardian's (a minor's card answers to it), a
   * sibling's (another minor linked to the same guardian: the guardian answers for it, so the guardian is in arrears
   * as by their own), or a ward's (a guardian's card answers for it). overdueStatements reads each account's own.
   */
  whose: 'own' | 'guardian' | 'sibling' | 'ward';
  /** For a ward's: the ward's name, for the guardian's words. */
  wardName: string | null;
  statementId: number;
  statementDate: string;
  dueDate: string;
  currency: string;
  /**
   * What is still owed on it: its closing balance less the credits booked since its period ended that pay it down:
   * repayments, and refunds of charges it holds (captured before its period ended). A refund of a later charge only
   * undoes that charge: the statement is as unpaid as before.
   */
  outstanding: number;
}

/**
 * The latest statement past due date plus grace of each account in `ids` (SQL yielding account_id, whose and
 * ward_name), if unpaid.
 */
const OVERDUE_SQL = (ids: string, columns: readonly string[] = ['account_id', 'whose', 'ward_name']) => `
  SELECT ${columns.map((c) => `x.${c}`).join(', ')}, s.id, s.statement_date, s.due_date, s.currency, s.closing_balance + COALESCE(c.credits, 0) AS outstanding
  FROM (${ids}) AS x (${columns.join(', ')})
  CROSS JOIN LATERAL (
    SELECT id, statement_date, due_date, currency, closing_balance, period_end FROM statements
    WHERE account_id = x.account_id AND due_date + ?::int < (now() AT TIME ZONE ?::text)::date
    ORDER BY statement_date DESC LIMIT 1
  ) s
  LEFT JOIN LATERAL (
    SELECT sum(p.amount) AS credits
    FROM ledger_accounts la JOIN postings p ON p.ledger_account_id = la.id JOIN journal_entries e ON e.id = p.entry_id
    WHERE la.kind = 'receivable' AND la.owner_id = x.account_id::text AND la.currency = s.currency
      AND p.amount < 0 AND e.created_at >= s.period_end
      AND (e.kind <> 'refund' OR EXISTS (
        SELECT 1 FROM journal_entries ce WHERE ce.approval_id = e.approval_id AND ce.kind = 'capture' AND ce.created_at < s.period_end))
  ) c ON true
  WHERE s.closing_balance + COALESCE(c.credits, 0) > 0`;

function toOverdue(x: Row): OverdueStatement {
  return {
    accountId: x.account_id as string,
    whose: x.whose as OverdueStatement['whose'],
    wardName: (x.ward_name as string | null) ?? null,
    statementId: Number(x.id),
    statementDate: dateString(x.statement_date),
    dueDate: dateString(x.due_date),
    currency: x.currency as string,
    outstanding: Number(x.outstanding),
  };
}

/**
 * For each account, its latest statement whose due date plus `graceDays` has passed (today in
 * `timeZone`), if something of it is still unpaid. The latest such statement is the only one to look
 * at: its closing balance carries every earlier one, so when it is paid all of them are.
 */
export async function overdueStatements(
  conn: Conn,
  accountIds: readonly string[],
  p: { graceDays: number; timeZone: string },
): Promise<OverdueStatement[]> {
  if (accountIds.length === 0) return [];
  const r = await conn.raw(OVERDUE_SQL("SELECT unnest(?::uuid[]), 'own', NULL::text"), [[...accountIds], p.graceDays, p.timeZone]);
  return ((r as { rows: Row[] }).rows ?? []).map(toOverdue);
}

const WHOSE_ORDER = { own: 0, guardian: 1, sibling: 2, ward: 3 } as const;

/**
 * The same for one account and, with `linked`, its guardian, the other minors linked to that guardian (siblings) and
 * its wards, in one query (the approval path: it runs inside every approval transaction; wards and siblings are found
 * through accounts_guardian_account_id_index, so an account that is nobody's guardian and has none pays one index
 * probe that finds nothing). Its own statement comes first, then the guardian's, then the siblings', then the wards'.
 */
export async function overdueForAccount(
  conn: Conn,
  accountId: string,
  p: { graceDays: number; timeZone: string; linked: boolean },
): Promise<OverdueStatement[]> {
  const ids = `SELECT id, 'own', NULL::text FROM accounts WHERE id = ?::uuid
    UNION ALL SELECT guardian_account_id, 'guardian', NULL::text FROM accounts WHERE id = ?::uuid AND guardian_account_id IS NOT NULL AND ?::boolean
    UNION ALL SELECT o.id, 'sibling', NULL::text FROM accounts me JOIN accounts o ON o.guardian_account_id = me.guardian_account_id AND o.id <> me.id
      WHERE me.id = ?::uuid AND ?::boolean
    UNION ALL SELECT id, 'ward', legal_name FROM accounts WHERE guardian_account_id = ?::uuid AND ?::boolean`;
  const r = await conn.raw(OVERDUE_SQL(ids), [accountId, accountId, p.linked, accountId, p.linked, accountId, p.linked, p.graceDays, p.timeZone]);
  const found = ((r as { rows: Row[] }).rows ?? []).map(toOverdue);
  return found.sort((a, b) => WHOSE_ORDER[a.whose] - WHOSE_ORDER[b.whose] || a.dueDate.localeCompare(b.dueDate));
}

/**
 * Accounts not yet flagged delinquent whose latest statement past its grace period (and due within
 * the last `windowDays`) still shows a balance: the candidates the sweep checks and flags.
 */
export async function delinquencyCandidates(
  conn: Conn,
  p: { graceDays: number; timeZone: string; windowDays: number; limit: number },
): Promise<string[]> {
  const r = await conn.raw(
    `SELECT DISTINCT s.account_id FROM statements s JOIN accounts a ON a.id = s.account_id
     WHERE a.delinquent_since IS NULL AND s.closing_balance > 0
       AND s.due_date + ?::int < (now() AT TIME ZONE ?::text)::date
       AND s.due_date + ?::int >= (now() AT TIME ZONE ?::text)::date - ?::int
     LIMIT ?`,
    [p.graceDays, p.timeZone, p.graceDays, p.timeZone, p.windowDays, p.limit],
  );
  return ((r as { rows: Row[] }).rows ?? []).map((x) => x.account_id as string);
}

/** Sets or clears the delinquency flag of an account. */
export async function setDelinquentSince(conn: Conn, accountId: string, since: Date | null): Promise<void> {
  await conn('accounts').where({ id: accountId }).update({ delinquent_since: since });
}

/**
 * Which of these guardians' cards an overdue statement stops (cards/guardian-overdue.ts, for each at once: the review
 * queue's page in one query): its own, or with `linked` (delinquency.guardianResponsible) a linked minor's.
 */
export async function overdueGuardians(
  conn: Conn,
  guardianIds: readonly string[],
  p: { graceDays: number; timeZone: string; linked: boolean },
): Promise<Set<string>> {
  if (guardianIds.length === 0) return new Set();
  const ids = `SELECT g, 'own', NULL::text, g FROM unnest(?::uuid[]) AS g
    UNION ALL SELECT id, 'ward', legal_name, guardian_account_id FROM accounts WHERE guardian_account_id = ANY(?::uuid[]) AND ?::boolean`;
  const r = await conn.raw(OVERDUE_SQL(ids, ['account_id', 'whose', 'ward_name', 'guardian_id']), [
    [...guardianIds],
    [...guardianIds],
    p.linked,
    p.graceDays,
    p.timeZone,
  ]);
  return new Set(((r as { rows: Row[] }).rows ?? []).map((x) => x.guardian_id as string));
}

/** Accounts (ids) whose guardian is `guardianId`: a guardian's overdue statement also stops their cards. */
export async function wardsOf(conn: Conn, guardianId: string): Promise<string[]> {
  return ((await conn('accounts').select('id').where({ guardian_account_id: guardianId })) as Array<{ id: string }>).map((r) => r.id);
}

/** An account's payment reference, guardian and delinquency flag. */
export async function billingProfile(
  conn: Conn,
  accountId: string,
): Promise<{ paymentReference: string; guardianAccountId: string | null; delinquentSince: Date | null } | undefined> {
  const r = (await conn('accounts').select('payment_reference', 'guardian_account_id', 'delinquent_since').where({ id: accountId }).first()) as Row | undefined;
  if (!r) return undefined;
  return {
    paymentReference: r.payment_reference as string,
    guardianAccountId: (r.guardian_account_id as string | null) ?? null,
    delinquentSince: r.delinquent_since ? new Date(r.delinquent_since as string) : null,
  };
}

/** When an account's statements close (see DAY_ON): the day chosen and, after a change, the day before it and until when. */
export interface StatementSchedule {
  /** 1–28: statements close on this day of the month (from `from` on, after a change). */
  day: number;
  /** The day in force before the latest change, for statement dates before `from`; null if it never changed. */
  previousDay: number | null;
  /** The first statement date on `day` after the latest change (YYYY-MM-DD); null if it never changed. */
  from: string | null;
  /** For a ward, the guardian whose schedule it is billed on (the ward's own columns are then unused); else null. */
  guardianAccountId: string | null;
}

function toSchedule(r: Row): StatementSchedule {
  return {
    day: Number(r.statement_day),
    previousDay: r.previous_statement_day === null || r.previous_statement_day === undefined ? null : Number(r.previous_statement_day),
    from: r.statement_day_from ? dateString(r.statement_day_from) : null,
    guardianAccountId: (r.guardian_account_id as string | null) ?? null,
  };
}

/** The schedule the account is billed on: its own, or for a ward its guardian's (as the billing run reads it). */
export async function findStatementSchedule(conn: Conn, accountId: string): Promise<StatementSchedule | undefined> {
  const r = (await conn.raw(
    `SELECT a.guardian_account_id, s.statement_day, s.previous_statement_day, s.statement_day_from FROM accounts a ${SCHEDULE_SOURCE} WHERE a.id = ?`,
    [accountId],
  )) as { rows: Row[] };
  const row = r.rows[0];
  return row ? toSchedule(row) : undefined;
}

/** The account's own schedule columns and guardian, its row locked until the transaction ends (FOR UPDATE). */
export async function lockStatementSchedule(conn: Conn, accountId: string): Promise<StatementSchedule | undefined> {
  const r = (await conn('accounts')
    .select('guardian_account_id', 'statement_day', 'previous_statement_day', 'statement_day_from')
    .where({ id: accountId })
    .forUpdate()
    .first()) as Row | undefined;
  return r ? toSchedule(r) : undefined;
}

/** Writes the account's schedule (the caller holds its row lock). */
export async function setStatementSchedule(conn: Conn, accountId: string, s: Omit<StatementSchedule, 'guardianAccountId'>): Promise<void> {
  await conn('accounts').where({ id: accountId }).update({ statement_day: s.day, previous_statement_day: s.previousDay, statement_day_from: s.from });
}

/** The accounts billed on this guardian's schedule (its wards), locked after the guardian's row, in id order. */
export async function lockWardsOf(conn: Conn, guardianId: string): Promise<string[]> {
  const rows = (await conn('accounts').select('id').where({ guardian_account_id: guardianId }).orderBy('id').forUpdate()) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}
