import type { Trx } from '../db/knex.ts';
import { insertEntry, ledgerAccountIds, type LedgerAccountKind } from '../db/ledger.ts';

export interface Leg {
  kind: LedgerAccountKind;
  ownerId: string;
  /** Debit positive, credit negative, in minor units. */
  amount: number;
}

export interface Entry {
  kind: string;
  approvalId: string | null;
  memo?: string;
  currency: string;
  legs: Leg[];
}

/**
 * Posts a balanced journal entry inside the caller's transaction, in two queries (its accounts' ids,
 * then the entry with its postings). Checked here for a clear error, and again by the database at
 * commit, so an unbalanced entry can never be stored.
 */
export async function post(trx: Trx, e: Entry): Promise<number> {
  const legs = e.legs.filter((l) => l.amount !== 0);
  if (legs.some((l) => !Number.isSafeInteger(l.amount))) throw new Error('ledger amounts must be integers');
  const total = legs.reduce((s, l) => s + l.amount, 0);
  if (total !== 0 || legs.length < 2) throw new Error(`journal entry ${e.kind} does not balance (${total})`);
  const ids = await ledgerAccountIds(trx, legs, e.currency);
  const postings = legs.map((l, i) => ({ ledgerAccountId: ids[i]!, amount: l.amount, currency: e.currency }));
  return insertEntry(trx, { kind: e.kind, approvalId: e.approvalId, memo: e.memo ?? '', postings });
}

/** Ledger id of the global accounts (holds control, fee income, cash) that have no owner. */
export const HOUSE = '';
