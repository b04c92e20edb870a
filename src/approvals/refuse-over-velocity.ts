import type { Trx } from '../db/knex.ts';
import { cardVelocity } from '../db/spending-controls.ts';
import { formatMoney } from '../lib/money.ts';
import type { VelocityLimits } from './deps.ts';
import { ApprovalRefusedError } from './errors.ts';

/**
 * Velocity limits per card (approvals per hour and per day, amount per day, rolling windows), inside the
 * approval transaction: the account row lock serialises the card's approvals, so the counts cannot race. A card
 * reissued (lost, or replaced at the holder's request) carries on the counts of the one it replaced.
 */
export async function refuseOverVelocity(
  trx: Trx,
  req: { accountId: string; amount: number; currency: string },
  limits: VelocityLimits | undefined,
): Promise<void> {
  if (!limits) return;
  const v = await cardVelocity(trx, req.accountId);
  const refuse = (why: string) =>
    new ApprovalRefusedError('velocity_exceeded', `${why} To protect you, further payments wait until then.`);
  if (v.lastHour >= limits.approvalsPerHour) {
    throw refuse(`This card has made ${limits.approvalsPerHour} payments in the last hour, its limit for an hour.`);
  }
  if (v.lastDay >= limits.approvalsPerDay) {
    throw refuse(`This card has made ${limits.approvalsPerDay} payments in the last 24 hours, its limit for a day.`);
  }
  if (v.amountLastDay + req.amount > limits.amountPerDay) {
    throw refuse(`This payment would take the card past its limit of ${formatMoney(limits.amountPerDay, req.currency)} in 24 hours.`);
  }
}
