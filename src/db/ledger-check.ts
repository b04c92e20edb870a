import type { Conn } from './knex.ts';

/** One thing in the books that does not add up: which rule, what it concerns, and the figures that disagree. */
export interface LedgerFinding {
  check: LedgerCheckName;
  /** What it concerns: an entry id, an account id, an approval number, a site's client id, a statement id, a currency. */
  subject: string;
  /** The disagreeing figures, in minor units (or the ids it names). */
  figures: Record<string, number | string>;
}

export type LedgerCheckName =
  | 'entry_unbalanced'
  | 'account_posted_balance'
  | 'account_held_amount'
  | 'account_open_holds'
  | 'approval_amounts'
  | 'approval_hold'
  | 'approval_receivable'
  | 'site_payable'
  | 'settlement_entry'
  | 'site_entry_unsettled'
  | 'holds_control'
  | 'statement_arithmetic'
  | 'statement_opening'
  | 'statement_closing'
  | 'statement_lines'
  | 'statement_duplicate';

/** Findings listed per check at most; the count says how many there were in all. */
export const FINDINGS_PER_CHECK = 100;

type Row = Record<string, unknown>;

async function rows(conn: Conn, sql: string, bindings: number[] = []): Promise<Row[]> {
  return ((await conn.raw(sql, bindings)) as { rows: Row[] }).rows ?? [];
}

const num = (v: unknown): number => Number(v ?? 0);

/** A check's query: each row is one finding, the first column its subject, `total` how many rows the check found. */
interface Check {
  name: LedgerCheckName;
  sql: string;
  figures: (r: Row) => Record<string, number | string>;
}

/** An account's cached figure (`column`) against the sum of its ledger account of `kind`. */
function accountAgainstLedger(name: LedgerCheckName, column: 'posted_balance' | 'held_amount', kind: 'receivable' | 'holds'): Check {
  return {
    name,
    sql: `SELECT a.id::text AS subject, a.${column} AS cached, COALESCE(l.s, 0) AS ledger, count(*) OVER () AS total
          FROM accounts a
          LEFT JOIN (SELECT la.owner_id, sum(p.amount) AS s FROM ledger_accounts la JOIN postings p ON p.ledger_account_id = la.id
                     WHERE la.kind = '${kind}' GROUP BY la.owner_id) l ON l.owner_id = a.id::text
          WHERE a.${column} <> COALESCE(l.s, 0) ORDER BY a.id`,
    figures: (r) => ({ [column]: num(r.cached), [`ledger_${kind}`]: num(r.ledger) }),
  };
}

/**
 * The rules the books keep, each as one read-only query returning the rows that break it (at most FINDINGS_PER_CHECK,
 * each with `total`, the whole count). Amounts: debit positive, credit negative (db/ledger: receivable and holds are
 * what holders owe or have held, payable what the card manager owes a site).
 */
const CHECKS: readonly Check[] = [
  {
    // The deferred trigger refuses an unbalanced entry at commit; read back, in case a trigger was ever disabled.
    name: 'entry_unbalanced',
    sql: `SELECT entry_id::text AS subject, currency, sum(amount) AS total_amount, count(*) OVER () AS total
          FROM postings GROUP BY entry_id, currency HAVING sum(amount) <> 0 ORDER BY entry_id`,
    figures: (r) => ({ currency: String(r.currency), sum: num(r.total_amount) }),
  },
  accountAgainstLedger('account_posted_balance', 'posted_balance', 'receivable'),
  accountAgainstLedger('account_held_amount', 'held_amount', 'holds'),
  {
    // What an account holds is what its open approvals still hold (moves.ts remainingHold).
    name: 'account_open_holds',
    sql: `SELECT a.id::text AS subject, a.held_amount, COALESCE(o.s, 0) AS open_holds, count(*) OVER () AS total
          FROM accounts a
          LEFT JOIN (SELECT account_id, sum(amount - captured_amount - released_amount) AS s FROM approvals
                     WHERE status = 'approved' GROUP BY account_id) o ON o.account_id = a.id
          WHERE a.held_amount <> COALESCE(o.s, 0) ORDER BY a.id`,
    figures: (r) => ({ held_amount: num(r.held_amount), open_approvals_hold: num(r.open_holds) }),
  },
  {
    // Never more captured and released than approved, nor more refunded than captured; a closed approval holds nothing.
    name: 'approval_amounts',
    sql: `SELECT approval_no AS subject, status, amount, captured_amount, released_amount, refunded_amount, count(*) OVER () AS total
          FROM approvals
          WHERE captured_amount < 0 OR released_amount < 0 OR refunded_amount < 0
             OR captured_amount + released_amount > amount OR refunded_amount > captured_amount
             OR (status <> 'approved' AND captured_amount + released_amount <> amount)
          ORDER BY approval_no`,
    figures: (r) => ({
      status: String(r.status),
      amount: num(r.amount),
      captured: num(r.captured_amount),
      released: num(r.released_amount),
      refunded: num(r.refunded_amount),
    }),
  },
  {
    // Each approval's own entries: its holds postings add up to what it still holds, its receivable postings to what
    // was captured and not refunded.
    name: 'approval_hold',
    sql: `SELECT ap.approval_no AS subject, ap.status, l.holds,
            CASE WHEN ap.status = 'approved' THEN ap.amount - ap.captured_amount - ap.released_amount ELSE 0 END AS expected,
            count(*) OVER () AS total
          FROM approvals ap
          JOIN LATERAL (SELECT COALESCE(sum(p.amount), 0) AS holds FROM journal_entries e
                        JOIN postings p ON p.entry_id = e.id JOIN ledger_accounts la ON la.id = p.ledger_account_id
                        WHERE e.approval_id = ap.id AND la.kind = 'holds') l ON true
          WHERE l.holds <> CASE WHEN ap.status = 'approved' THEN ap.amount - ap.captured_amount - ap.released_amount ELSE 0 END
          ORDER BY ap.approval_no`,
    figures: (r) => ({ status: String(r.status), ledger_holds: num(r.holds), still_held: num(r.expected) }),
  },
  {
    name: 'approval_receivable',
    sql: `SELECT ap.approval_no AS subject, l.receivable, ap.captured_amount - ap.refunded_amount AS expected, count(*) OVER () AS total
          FROM approvals ap
          JOIN LATERAL (SELECT COALESCE(sum(p.amount), 0) AS receivable FROM journal_entries e
                        JOIN postings p ON p.entry_id = e.id JOIN ledger_accounts la ON la.id = p.ledger_account_id
                        WHERE e.approval_id = ap.id AND la.kind = 'receivable') l ON true
          WHERE l.receivable <> ap.captured_amount - ap.refunded_amount
          ORDER BY ap.approval_no`,
    figures: (r) => ({ ledger_receivable: num(r.receivable), captured_less_refunded: num(r.expected) }),
  },
  {
    // What the card manager owes a site before settlement: what it captured less what was refunded (its own refunds and
    // upheld reports alike), from the approvals; settlement entries discharge it and are checked apart.
    name: 'site_payable',
    sql: `WITH led AS (
            SELECT la.owner_id AS client_id, la.currency, -sum(p.amount) AS owed FROM ledger_accounts la
            JOIN postings p ON p.ledger_account_id = la.id JOIN journal_entries e ON e.id = p.entry_id
            WHERE la.kind = 'payable' AND e.kind <> 'settlement' GROUP BY la.owner_id, la.currency),
          exp AS (
            SELECT client_id, currency, sum(captured_amount - refunded_amount) AS owed FROM approvals GROUP BY client_id, currency)
          SELECT COALESCE(led.client_id, exp.client_id) AS subject, COALESCE(led.currency, exp.currency) AS currency,
            COALESCE(led.owed, 0) AS ledger, COALESCE(exp.owed, 0) AS expected, count(*) OVER () AS total
          FROM led FULL JOIN exp ON exp.client_id = led.client_id AND exp.currency = led.currency
          WHERE COALESCE(led.owed, 0) <> COALESCE(exp.owed, 0)
          ORDER BY 1, 2`,
    figures: (r) => ({ currency: String(r.currency), ledger_payable: num(r.ledger), captured_less_refunded: num(r.expected) }),
  },
  {
    // A closed settlement's entry discharges exactly its fee and payout from the site's payable.
    name: 'settlement_entry',
    sql: `SELECT s.client_id || ' ' || s.period_start::text AS subject, s.currency, s.fee + s.payout AS expected,
            COALESCE(l.payable, 0) AS ledger, count(*) OVER () AS total
          FROM settlements s
          LEFT JOIN LATERAL (SELECT sum(p.amount) AS payable FROM postings p JOIN ledger_accounts la ON la.id = p.ledger_account_id
                             WHERE p.entry_id = s.entry_id AND la.kind = 'payable' AND la.owner_id = s.client_id) l ON true
          WHERE COALESCE(l.payable, 0) <> s.fee + s.payout
          ORDER BY s.client_id, s.period_start`,
    figures: (r) => ({ currency: String(r.currency), ledger_payable: num(r.ledger), fee_and_payout: num(r.expected) }),
  },
  {
    // A settlement takes every site entry not taken yet up to its month's end (ledger/settlement.ts closeSettlement),
    // so one dated before the latest settled month began and taken by none was lost on the way: the site's payable
    // keeps it and it is never paid out. One dated in the latest settled month may be waiting: it committed after that
    // month closed, and the next month's settlement carries it forward.
    name: 'site_entry_unsettled',
    sql: `SELECT e.id::text AS subject, la.owner_id AS client_id, la.currency, e.kind, p.amount, e.created_at, count(*) OVER () AS total
          FROM journal_entries e
          JOIN postings p ON p.entry_id = e.id
          JOIN ledger_accounts la ON la.id = p.ledger_account_id AND la.kind = 'payable'
          WHERE e.kind IN ('capture', 'refund')
            AND e.created_at < (SELECT max(period_start_at) FROM settlements)
            AND NOT EXISTS (SELECT 1 FROM settlement_entries t WHERE t.entry_id = e.id)
          ORDER BY e.id`,
    figures: (r) => ({
      client_id: String(r.client_id),
      currency: String(r.currency),
      kind: String(r.kind),
      payable: num(r.amount),
      dated: new Date(r.created_at as string | Date).toISOString(),
    }),
  },
  {
    // Holds and their control account move together: per currency they cancel out.
    name: 'holds_control',
    sql: `SELECT la.currency AS subject, sum(p.amount) AS total_amount, count(*) OVER () AS total
          FROM ledger_accounts la JOIN postings p ON p.ledger_account_id = la.id
          WHERE la.kind IN ('holds', 'holds_control') GROUP BY la.currency HAVING sum(p.amount) <> 0 ORDER BY la.currency`,
    figures: (r) => ({ sum: num(r.total_amount) }),
  },
  {
    name: 'statement_arithmetic',
    // A payout (credit balance paid back to the holder) raises what the holder owes, from below zero toward it.
    sql: `SELECT s.id::text AS subject, s.account_id::text AS account_id, s.opening_balance, s.charges, s.refunds, s.repayments, s.payouts, s.closing_balance,
            count(*) OVER () AS total
          FROM statements s
          WHERE s.closing_balance <> s.opening_balance + s.charges - s.refunds - s.repayments + s.payouts ORDER BY s.id`,
    figures: (r) => ({
      account_id: String(r.account_id),
      opening: num(r.opening_balance),
      charges: num(r.charges),
      refunds: num(r.refunds),
      repayments: num(r.repayments),
      payouts: num(r.payouts),
      closing: num(r.closing_balance),
    }),
  },
  {
    name: 'statement_opening',
    sql: `SELECT s.id::text AS subject, s.account_id::text AS account_id, s.opening_balance, COALESCE(prev.closing_balance, 0) AS previous_closing,
            count(*) OVER () AS total
          FROM statements s
          LEFT JOIN LATERAL (SELECT closing_balance FROM statements p WHERE p.account_id = s.account_id AND p.statement_date < s.statement_date
                             ORDER BY p.statement_date DESC LIMIT 1) prev ON true
          WHERE s.opening_balance <> COALESCE(prev.closing_balance, 0) ORDER BY s.id`,
    figures: (r) => ({ account_id: String(r.account_id), opening: num(r.opening_balance), previous_closing: num(r.previous_closing) }),
  },
  {
    // A statement closes on what the holder owed at its period's end: the receivable then.
    name: 'statement_closing',
    sql: `SELECT s.id::text AS subject, s.account_id::text AS account_id, s.closing_balance, led.s AS ledger, count(*) OVER () AS total
          FROM statements s
          JOIN LATERAL (SELECT COALESCE(sum(p.amount), 0) AS s FROM ledger_accounts la JOIN postings p ON p.ledger_account_id = la.id
                        JOIN journal_entries e ON e.id = p.entry_id
                        WHERE la.kind = 'receivable' AND la.owner_id = s.account_id::text AND e.created_at < s.period_end) led ON true
          WHERE s.closing_balance <> led.s ORDER BY s.id`,
    figures: (r) => ({ account_id: String(r.account_id), closing: num(r.closing_balance), ledger_receivable_at_end: num(r.ledger) }),
  },
  {
    name: 'statement_lines',
    sql: `SELECT s.id::text AS subject, s.charges, s.refunds, s.repayments, s.payouts, ln.c, ln.r, ln.p, ln.o, count(*) OVER () AS total
          FROM statements s
          JOIN LATERAL (SELECT COALESCE(sum(amount) FILTER (WHERE kind = 'charge'), 0) AS c, COALESCE(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS r,
                               COALESCE(sum(amount) FILTER (WHERE kind = 'repayment'), 0) AS p, COALESCE(sum(amount) FILTER (WHERE kind = 'payout'), 0) AS o
                        FROM statement_lines l WHERE l.statement_id = s.id) ln ON true
          WHERE ln.c <> s.charges OR ln.r <> s.refunds OR ln.p <> s.repayments OR ln.o <> s.payouts ORDER BY s.id`,
    figures: (r) => ({
      charges: num(r.charges),
      line_charges: num(r.c),
      refunds: num(r.refunds),
      line_refunds: num(r.r),
      repayments: num(r.repayments),
      line_repayments: num(r.p),
      payouts: num(r.payouts),
      line_payouts: num(r.o),
    }),
  },
  {
    name: 'statement_duplicate',
    sql: `SELECT account_id::text || ' ' || statement_date::text AS subject, count(*) AS n, count(*) OVER () AS total
          FROM statements GROUP BY account_id, statement_date HAVING count(*) > 1 ORDER BY 1`,
    figures: (r) => ({ statements: num(r.n) }),
  },
];

export interface LedgerCheckRows {
  findings: LedgerFinding[];
  /** Per check that found anything, how many rows broke it (findings lists FINDINGS_PER_CHECK of them at most). */
  counts: Partial<Record<LedgerCheckName, number>>;
  /** What was read: so a report of nothing wrong says over how much. */
  scope: { entries: number; accounts: number; approvals: number; statements: number; settlements: number };
}

/** Runs every check on `conn` (the caller gives one snapshot: a repeatable-read, read-only transaction). */
export async function runLedgerChecks(conn: Conn): Promise<LedgerCheckRows> {
  const findings: LedgerFinding[] = [];
  const counts: Partial<Record<LedgerCheckName, number>> = {};
  for (const check of CHECKS) {
    const found = await rows(conn, `${check.sql} LIMIT ?`, [FINDINGS_PER_CHECK]);
    if (!found.length) continue;
    counts[check.name] = num(found[0]!.total);
    for (const r of found) findings.push({ check: check.name, subject: String(r.subject), figures: check.figures(r) });
  }
  const [scope] = await rows(
    conn,
    `SELECT (SELECT count(*) FROM journal_entries) AS entries, (SELECT count(*) FROM accounts) AS accounts,
            (SELECT count(*) FROM approvals) AS approvals, (SELECT count(*) FROM statements) AS statements,
            (SELECT count(*) FROM settlements) AS settlements`,
  );
  return {
    findings,
    counts,
    scope: { entries: num(scope?.entries), accounts: num(scope?.accounts), approvals: num(scope?.approvals), statements: num(scope?.statements), settlements: num(scope?.settlements) },
  };
}
