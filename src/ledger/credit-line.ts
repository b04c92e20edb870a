import type { CreditLine } from '../db/credit-lines.ts';

/** Available credit = limit − posted balance − active holds (never reported below zero). */
export function availableCredit(line: CreditLine): number {
  return Math.max(0, line.creditLimit - line.postedBalance - line.heldAmount);
}
