import { appendAudit } from '../db/audit-log.ts';
import { confirmPendingTotp, findTotpFactor } from '../db/totp-factors.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError } from '../errors.ts';
import { sha256Hex } from '../lib/hmac.ts';
import { unseal } from '../lib/sealed.ts';
import { notifyHolder } from '../notifications/notify.ts';
import { sealAad, type SecondFactorDeps } from './deps.ts';
import { livePendingSecret } from './start-enrolment.ts';
import { matchTotpStep } from './totp.ts';

export class EnrolmentError extends AppError {
  constructor(message: string, field?: string) {
    super('totp_enrolment_failed', message, { status: field ? 400 : 409, ...(field ? { fields: { [field]: message } } : {}) });
  }
}

/** A wrong code of the authenticator app being replaced: a guess, counted like a wrong step-up code. */
export class CurrentCodeError extends EnrolmentError {
  constructor(message: string) {
    super(message, 'current_code');
  }
}

/**
 * Confirms a pending enrolment with its first code: from then on step-up approvals ask for this
 * secret's codes, and the confirming code's step counts as used (RFC 6238 §5.2). Replacing a confirmed
 * secret also takes a code of that one (`currentCode`): the card password alone, which step-up exists to
 * distrust, must not be enough to swap in someone else's app. The holder is told either way.
 */
export async function confirmEnrolment(
  deps: SecondFactorDeps,
  input: { accountId: string; last4: string; token: string; code: string; currentCode?: string | undefined; requestId?: string | undefined },
): Promise<void> {
  const factor = await findTotpFactor(deps.db, input.accountId);
  const pending = livePendingSecret(factor, input.token);
  if (!factor || !pending) throw new EnrolmentError('This set-up has expired or was replaced by a newer one. Start again.');
  const replacing = factor.secretSealed !== null;
  if (replacing) {
    if (!input.currentCode) throw new EnrolmentError('Type the code your current authenticator app shows: replacing it needs one.', 'current_code');
    const current = matchTotpStep(unseal(deps.sealKey, factor.secretSealed!, sealAad(input.accountId)), input.currentCode);
    if (current === null || current <= factor.lastStep) {
      throw new CurrentCodeError('That is not the code your current authenticator app shows now.');
    }
  }
  const step = matchTotpStep(unseal(deps.sealKey, pending, sealAad(input.accountId)), input.code);
  if (step === null) throw new EnrolmentError('That code is not right. Type the 6-digit code your app shows now.', 'code');
  await inTransaction(deps.db, async (trx) => {
    if (!(await confirmPendingTotp(trx, input.accountId, Buffer.from(sha256Hex(input.token), 'hex'), step))) {
      throw new EnrolmentError('This set-up has expired or was replaced by a newer one. Start again.');
    }
    await appendAudit(trx, {
      actor: `account:${input.accountId}`,
      action: 'totp.enrolled',
      subjectType: 'account',
      subjectId: input.accountId,
      details: { replaced: replacing },
      requestId: input.requestId,
    });
    await notifyHolder(trx, input.accountId, 'second_factor_set', { last4: input.last4, replaced: replacing });
  });
}
