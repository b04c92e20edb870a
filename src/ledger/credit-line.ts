import { lapsedHeldAmount } from '../db/approvals.ts';
import type { CreditLine } from '../db/credit-lines.ts';
import type { Conn } from '../db/knex.ts';

/** Available credit = limit − posted balance − active holds (never reported below zero). */
export function availableCredit(line: CreditLine): number {
  return Math.max(0, line.creditLimit - line.postedBalance - line.heldAmount);
}

/**
 * Available credit as a payment of `amount` would find it: holds past their expiry no longer count, since approve()
 * releases them before it would refuse. Read (one query) only when they could make the difference.
 */
export async function availableFor(conn: Conn, line: CreditLine, amount: number): Promise<number> {
  const available = availableCredit(line);
  if (amount <= available) return available;
  return availableCredit({ ...line, heldAmount: line.heldAmount - (await lapsedHeldAmount(conn, line.accountId)) });
}
