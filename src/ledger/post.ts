import type { Trx } from '../db/knex.ts';
import { ensureLedgerAccounts, insertEntry, type Leg } from '../db/ledger.ts';

export interface Entry {
  kind: string;
  approvalId: string | null;
  memo?: string;
  currency: string;
  legs: Leg[];
}

/**
 * Posts a balanced journal entry inside the caller's transaction: one statement once its ledger accounts
 * exist; the first posting to a new account creates it and tries again. Checked here for a clear error,
 * and again by the database at commit, so an unbalanced entry can never be stored.
 */
export async function post(trx: Trx, e: Entry): Promise<number> {
  const legs = e.legs.filter((l) => l.amount !== 0);
  if (legs.some((l) => !Number.isSafeInteger(l.amount))) throw new Error('ledger amounts must be integers');
  const total = legs.reduce((s, l) => s + l.amount, 0);
  if (total !== 0 || legs.length < 2) throw new Error(`journal entry ${e.kind} does not balance (${total})`);
  const entry = { kind: e.kind, approvalId: e.approvalId, memo: e.memo ?? '', currency: e.currency, legs };
  const posted = await insertEntry(trx, entry);
  if (posted !== undefined) return posted;
  await ensureLedgerAccounts(trx, legs, e.currency);
  const retried = await insertEntry(trx, entry);
  if (retried === undefined) throw new Error(`journal entry ${e.kind}: its ledger accounts could not be found or created`);
  return retried;
}

/** Ledger id of the global accounts (holds control, fee income, cash) that have no owner. */
export const HOUSE = '';
