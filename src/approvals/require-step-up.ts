import type { Trx } from '../db/knex.ts';
import { formatMoney } from '../lib/money.ts';
import { verifyStepUp } from '../second-factor/verify-step-up.ts';
import type { ApprovalDeps } from './deps.ts';
import { ApprovalRefusedError } from './errors.ts';

/** True when a payment of `amount` needs the holder's second factor under this policy. */
export function needsStepUp(deps: ApprovalDeps, amount: number): boolean {
  return deps.policy.stepUpAbove !== undefined && amount > deps.policy.stepUpAbove;
}

/**
 * Step-up for large payments, inside the approval transaction: the holder's TOTP code must be right and
 * fresh. Without a confirmed factor the payment cannot be approved at all.
 */
export async function requireStepUp(
  trx: Trx,
  deps: ApprovalDeps,
  req: { accountId: string; amount: number; currency: string; secondFactorCode?: string | undefined },
): Promise<void> {
  if (!needsStepUp(deps, req.amount)) return;
  const limit = formatMoney(deps.policy.stepUpAbove!, req.currency);
  const result = deps.secondFactor ? await verifyStepUp(trx, deps.secondFactor, req.accountId, req.secondFactorCode) : 'not_enrolled';
  if (result === 'not_enrolled') {
    throw new ApprovalRefusedError(
      'step_up_required',
      `Payments above ${limit} need a code from an authenticator app, and this card has none set up. ` +
        'Set one up on your card page (Second factor), then try again.',
    );
  }
  if (result === 'wrong') {
    throw new ApprovalRefusedError(
      'step_up_failed',
      'The code from your authenticator app was not right, or was already used. Nothing was charged.',
    );
  }
}
