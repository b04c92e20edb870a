import type { Conn } from './knex.ts';

export type LedgerAccountKind = 'receivable' | 'holds' | 'holds_control' | 'payable' | 'fee_income' | 'cash';

export interface Posting {
  ledgerAccountId: number;
  amount: number;
  currency: string;
}

/**
 * The ids of several ledger accounts of one currency in one query, creating any missing ones (races
 * resolve through the unique key). Returned in the order asked.
 */
export async function ledgerAccountIds(
  conn: Conn,
  wanted: ReadonlyArray<{ kind: LedgerAccountKind; ownerId: string }>,
  currency: string,
): Promise<number[]> {
  const find = async () =>
    (await conn('ledger_accounts')
      .select('id', 'kind', 'owner_id')
      .where({ currency })
      .whereIn(['kind', 'owner_id'], wanted.map((w) => [w.kind, w.ownerId]))) as Array<{ id: number | string; kind: string; owner_id: string }>;
  let rows = await find();
  const key = (kind: string, owner: string) => `${kind}\u0000${owner}`;
  if (rows.length < new Set(wanted.map((w) => key(w.kind, w.ownerId))).size) {
    await conn('ledger_accounts')
      .insert(wanted.map((w) => ({ kind: w.kind, owner_id: w.ownerId, currency })))
      .onConflict(['kind', 'owner_id', 'currency'])
      .ignore();
    rows = await find();
  }
  const ids = new Map(rows.map((r) => [key(r.kind, r.owner_id), Number(r.id)]));
  return wanted.map((w) => ids.get(key(w.kind, w.ownerId))!);
}

/** Inserts one journal entry and its postings in one statement; the database checks the balance at commit. */
export async function insertEntry(
  conn: Conn,
  entry: { kind: string; approvalId: string | null; memo: string; postings: Posting[] },
): Promise<number> {
  const values = entry.postings.map(() => '(?::bigint, ?::bigint, ?::text)').join(', ');
  const r = await conn.raw(
    `WITH e AS (INSERT INTO journal_entries (kind, approval_id, memo) VALUES (?, ?, ?) RETURNING id)
     INSERT INTO postings (entry_id, ledger_account_id, amount, currency)
     SELECT e.id, v.account, v.amount, v.currency FROM e, (VALUES ${values}) AS v (account, amount, currency)
     RETURNING entry_id`,
    [entry.kind, entry.approvalId, entry.memo, ...entry.postings.flatMap((p) => [p.ledgerAccountId, p.amount, p.currency])],
  );
  return Number((r as { rows: Array<{ entry_id: number | string }> }).rows[0]!.entry_id);
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
