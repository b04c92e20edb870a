import type { Conn, Trx } from '../db/knex.ts';
import { findTotpFactor, useTotpStep } from '../db/totp-factors.ts';
import { unseal } from '../lib/sealed.ts';
import { sealAad, type SecondFactorDeps } from './deps.ts';
import { matchTotpStep } from './totp.ts';

export type StepUpResult = 'ok' | 'not_enrolled' | 'wrong';

/**
 * Checks a step-up code against the account's confirmed TOTP secret inside the approval transaction.
 * A code is good once: its step must be later than the last one used (RFC 6238 §5.2), so a replayed
 * code, or an older one, reads as wrong.
 */
export async function verifyStepUp(trx: Trx, deps: SecondFactorDeps, accountId: string, code: string | undefined): Promise<StepUpResult> {
  const factor = await findTotpFactor(trx, accountId);
  if (!factor?.secretSealed) return 'not_enrolled';
  if (!code) return 'wrong';
  const step = matchTotpStep(unseal(deps.sealKey, factor.secretSealed, sealAad(accountId)), code);
  if (step === null) return 'wrong';
  return (await useTotpStep(trx, accountId, step)) ? 'ok' : 'wrong';
}

/** True when the account has a confirmed second factor. */
export async function hasSecondFactor(conn: Conn, accountId: string): Promise<boolean> {
  return Boolean((await findTotpFactor(conn, accountId))?.secretSealed);
}
