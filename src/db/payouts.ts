import type { Conn } from './knex.ts';

/** A credit balance paid back to the holder by bank transfer. */
export interface Payout {
  id: number;
  accountId: string;
  amount: number;
  currency: string;
  /** The bank's reference of the outgoing transfer: unique, so one transfer is booked once. */
  bankReference: string;
  reason: string;
  entryId: number;
  actor: string;
  createdAt: Date;
}

type Row = Record<string, unknown>;

function toPayout(r: Row): Payout {
  return {
    id: Number(r.id),
    accountId: r.account_id as string,
    amount: Number(r.amount),
    currency: r.currency as string,
    bankReference: r.bank_reference as string,
    reason: r.reason as string,
    entryId: Number(r.entry_id),
    actor: r.actor as string,
    createdAt: new Date(r.created_at as string),
  };
}

export async function insertPayout(conn: Conn, p: Omit<Payout, 'id' | 'createdAt'>): Promise<Payout> {
  const [row] = (await conn('payouts')
    .insert({
      account_id: p.accountId,
      amount: p.amount,
      currency: p.currency,
      bank_reference: p.bankReference,
      reason: p.reason,
      entry_id: p.entryId,
      actor: p.actor,
    })
    .returning('*')) as Row[];
  return toPayout(row!);
}

export async function findPayoutByBankReference(conn: Conn, bankReference: string): Promise<Payout | undefined> {
  const r = (await conn('payouts').where({ bank_reference: bankReference }).first()) as Row | undefined;
  return r ? toPayout(r) : undefined;
}

/** An account's latest payouts, newest first. */
export async function recentPayouts(conn: Conn, accountId: string, limit: number): Promise<Payout[]> {
  const rows = (await conn('payouts').where({ account_id: accountId }).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit)) as Row[];
  return rows.map(toPayout);
}
