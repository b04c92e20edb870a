import { appendAudit } from '../db/audit-log.ts';
import { confirmPendingTotp, findTotpFactor } from '../db/totp-factors.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError } from '../errors.ts';
import { safeEqual, sha256Hex } from '../lib/hmac.ts';
import { unseal } from '../lib/sealed.ts';
import { sealAad, type SecondFactorDeps } from './deps.ts';
import { matchTotpStep } from './totp.ts';

export class EnrolmentError extends AppError {
  constructor(message: string, field?: string) {
    super('totp_enrolment_failed', message, { status: field ? 400 : 409, ...(field ? { fields: { [field]: message } } : {}) });
  }
}

/**
 * Confirms a pending enrolment with its first code: from then on step-up approvals ask for this
 * secret's codes, and the confirming code's step counts as used (RFC 6238 §5.2).
 */
export async function confirmEnrolment(
  deps: SecondFactorDeps,
  input: { accountId: string; token: string; code: string; requestId?: string | undefined },
): Promise<void> {
  const factor = await findTotpFactor(deps.db, input.accountId);
  const tokenHash = sha256Hex(input.token);
  if (
    !factor?.pendingSealed ||
    !factor.enrolTokenHash ||
    !safeEqual(factor.enrolTokenHash.toString('hex'), tokenHash) ||
    !factor.enrolExpiresAt ||
    factor.enrolExpiresAt.getTime() <= Date.now()
  ) {
    throw new EnrolmentError('This set-up has expired or was replaced by a newer one. Start again.');
  }
  const step = matchTotpStep(unseal(deps.sealKey, factor.pendingSealed, sealAad(input.accountId)), input.code);
  if (step === null) throw new EnrolmentError('That code is not right. Type the 6-digit code your app shows now.', 'code');
  await inTransaction(deps.db, async (trx) => {
    if (!(await confirmPendingTotp(trx, input.accountId, Buffer.from(tokenHash, 'hex'), step))) {
      throw new EnrolmentError('This set-up has expired or was replaced by a newer one. Start again.');
    }
    await appendAudit(trx, {
      actor: `account:${input.accountId}`,
      action: 'totp.enrolled',
      subjectType: 'account',
      subjectId: input.accountId,
      requestId: input.requestId,
    });
  });
}
