import type { Conn } from './knex.ts';

export type LedgerAccountKind = 'receivable' | 'holds' | 'holds_control' | 'payable' | 'fee_income' | 'cash';

export interface Leg {
  kind: LedgerAccountKind;
  ownerId: string;
  /** Debit positive, credit negative, in minor units. */
  amount: number;
}

/** Creates the ledger accounts of one currency that do not exist yet (races resolve through the unique key). */
export async function ensureLedgerAccounts(conn: Conn, wanted: readonly Leg[], currency: string): Promise<void> {
  await conn('ledger_accounts')
    .insert(wanted.map((w) => ({ kind: w.kind, owner_id: w.ownerId, currency })))
    .onConflict(['kind', 'owner_id', 'currency'])
    .ignore();
}

/**
 * Inserts one journal entry and its postings in one statement, finding each leg's ledger account by kind,
 * owner and currency. If one of them does not exist yet, it inserts nothing and returns undefined (the
 * caller creates the accounts and tries again). The database checks the balance at commit.
 *
 * The entry is dated when it is written (clock_timestamp()), not when its transaction began (now()): a posting to a
 * holder's receivable is written under the account's row lock, so it is dated after the lock was taken, and a
 * transaction that began before a statement period's end but posts after the statement closed (the closing locks
 * the row too: db/statements.ts closeStatementsBatch) is dated in the next period instead of in a closed one.
 */
export async function insertEntry(
  conn: Conn,
  entry: { kind: string; approvalId: string | null; memo: string; currency: string; legs: readonly Leg[] },
): Promise<number | undefined> {
  const values = entry.legs.map(() => '(?::int, ?::text, ?::text, ?::bigint)').join(', ');
  const r = await conn.raw(
    `WITH v (n, kind, owner_id, amount) AS (VALUES ${values}),
     a AS (SELECT v.n, l.id, v.amount FROM v JOIN ledger_accounts l ON l.kind = v.kind AND l.owner_id = v.owner_id AND l.currency = ?),
     e AS (INSERT INTO journal_entries (kind, approval_id, memo, created_at) SELECT ?, ?, ?, clock_timestamp() WHERE (SELECT count(*) FROM a) = ? RETURNING id)
     INSERT INTO postings (entry_id, ledger_account_id, amount, currency)
     SELECT e.id, a.id, a.amount, ? FROM e, a ORDER BY a.n
     RETURNING entry_id`,
    [
      ...entry.legs.flatMap((l, i) => [i, l.kind, l.ownerId, l.amount]),
      entry.currency,
      entry.kind,
      entry.approvalId,
      entry.memo,
      entry.legs.length,
      entry.currency,
    ],
  );
  const row = (r as { rows: Array<{ entry_id: number | string }> }).rows[0];
  return row ? Number(row.entry_id) : undefined;
}

/** Sum of postings on one ledger account (its balance; debit positive). */
export async function ledgerBalance(conn: Conn, kind: LedgerAccountKind, ownerId: string, currency: string): Promise<number> {
  const r = (await conn('postings as p')
    .join('ledger_accounts as a', 'a.id', 'p.ledger_account_id')
    .where({ 'a.kind': kind, 'a.owner_id': ownerId, 'a.currency': currency })
    .sum({ total: 'p.amount' })
    .first()) as { total: string | number | null } | undefined;
  return Number(r?.total ?? 0);
}
