import type { Trx } from '../db/knex.ts';
import { findSpendingControls, monthSpend, type SpendingControls } from '../db/spending-controls.ts';
import { formatMoney } from '../lib/money.ts';
import { ApprovalRefusedError } from './errors.ts';

/**
 * The holder's own spending controls, inside the approval transaction (after the account row lock, so
 * concurrent approvals cannot together pass the monthly cap): blocked member sites, the maximum per
 * approval and the monthly cap. Each refusal says which control stopped the payment.
 */
export async function refuseByControls(
  trx: Trx,
  req: { accountId: string; clientId: string; amount: number; currency: string },
  siteName: string,
  timeZone?: string,
  /** The controls, when the caller read them with the account row lock already. */
  known?: SpendingControls,
): Promise<void> {
  const c = known ?? (await findSpendingControls(trx, req.accountId));
  if (!c) return;
  if (c.blockedSites.includes(req.clientId)) {
    throw new ApprovalRefusedError('spending_control', `You have blocked ${siteName} on your card, so it cannot take payments from you.`);
  }
  if (c.maxPerApproval !== null && req.amount > c.maxPerApproval) {
    throw new ApprovalRefusedError(
      'spending_control',
      `This payment of ${formatMoney(req.amount, req.currency)} is above the maximum of ${formatMoney(c.maxPerApproval, req.currency)} per payment you set.`,
    );
  }
  if (c.monthlyCap !== null) {
    const spent = await monthSpend(trx, req.accountId, timeZone);
    if (spent + req.amount > c.monthlyCap) {
      throw new ApprovalRefusedError(
        'spending_control',
        `This payment would take you past the monthly cap of ${formatMoney(c.monthlyCap, req.currency)} you set ` +
          `(${formatMoney(spent, req.currency)} spent this month).`,
      );
    }
  }
}
