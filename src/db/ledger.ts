import type { Conn } from './knex.ts';

export type LedgerAccountKind = 'receivable' | 'holds' | 'holds_control' | 'payable' | 'fee_income' | 'cash';

export interface Posting {
  ledgerAccountId: number;
  amount: number;
  currency: string;
}

/** The id of a ledger account, created on first use (races resolve through the unique key). */
export async function ledgerAccountId(conn: Conn, kind: LedgerAccountKind, ownerId: string, currency: string): Promise<number> {
  const found = await conn('ledger_accounts').select('id').where({ kind, owner_id: ownerId, currency }).first();
  if (found) return Number(found.id);
  await conn('ledger_accounts').insert({ kind, owner_id: ownerId, currency }).onConflict(['kind', 'owner_id', 'currency']).ignore();
  const row = await conn('ledger_accounts').select('id').where({ kind, owner_id: ownerId, currency }).first();
  return Number(row!.id);
}

/** Inserts one journal entry and its postings; the database checks the balance at commit. */
export async function insertEntry(
  conn: Conn,
  entry: { kind: string; approvalId: string | null; memo: string; postings: Posting[] },
): Promise<number> {
  const [row] = (await conn('journal_entries')
    .insert({ kind: entry.kind, approval_id: entry.approvalId, memo: entry.memo })
    .returning('id')) as Array<{ id: number | string }>;
  const entryId = Number(row!.id);
  await conn('postings').insert(
    entry.postings.map((p) => ({ entry_id: entryId, ledger_account_id: p.ledgerAccountId, amount: p.amount, currency: p.currency })),
  );
  return entryId;
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
