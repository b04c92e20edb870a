import type { Conn } from './knex.ts';

export interface CreditLine {
  accountId: string;
  creditLimit: number;
  currency: string;
  postedBalance: number;
  heldAmount: number;
}

/** Reads an account's credit line and locks the row until the transaction ends (FOR UPDATE). */
export async function lockCreditLine(conn: Conn, accountId: string): Promise<CreditLine | undefined> {
  const r = (await conn('accounts')
    .select('id', 'credit_limit', 'currency', 'posted_balance', 'held_amount')
    .where({ id: accountId })
    .forUpdate()
    .first()) as Record<string, unknown> | undefined;
  return r ? toLine(r) : undefined;
}

/** Reads without locking, for display. */
export async function readCreditLine(conn: Conn, accountId: string): Promise<CreditLine | undefined> {
  const r = (await conn('accounts')
    .select('id', 'credit_limit', 'currency', 'posted_balance', 'held_amount')
    .where({ id: accountId })
    .first()) as Record<string, unknown> | undefined;
  return r ? toLine(r) : undefined;
}

/** The credit line from an accounts row (`id` and the four balance columns). */
export function toLine(r: Record<string, unknown>): CreditLine {
  return {
    accountId: r.id as string,
    creditLimit: Number(r.credit_limit),
    currency: r.currency as string,
    postedBalance: Number(r.posted_balance),
    heldAmount: Number(r.held_amount),
  };
}

/** Moves the denormalised balances by the given deltas (call only with the row locked). */
export async function adjustCreditLine(conn: Conn, accountId: string, d: { posted?: number; held?: number }): Promise<void> {
  await conn('accounts')
    .where({ id: accountId })
    .update({
      posted_balance: conn.raw('posted_balance + ?', [d.posted ?? 0]),
      held_amount: conn.raw('held_amount + ?', [d.held ?? 0]),
    });
}
