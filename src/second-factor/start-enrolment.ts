import { appendAudit } from '../db/audit-log.ts';
import { findTotpFactor, savePendingTotp, type TotpFactor } from '../db/totp-factors.ts';
import { inTransaction } from '../db/tx.ts';
import { safeEqual, sha256Hex } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';
import { seal, unseal } from '../lib/sealed.ts';
import { sealAad, type SecondFactorDeps } from './deps.ts';
import { newTotpSecret, totpProvisioning } from './totp.ts';

/** How long the holder has to type the first code of a new secret. */
export const ENROLMENT_SECONDS = 600;

export interface Enrolment {
  uri: string;
  base32: string;
  /** Goes in the confirm form: only the browser that started this enrolment can confirm it. */
  token: string;
}

/**
 * Draws a new TOTP secret and keeps it, sealed, as the account's pending enrolment. A confirmed factor
 * (if any) keeps working until the new secret's first code confirms it (confirmEnrolment).
 */
export async function startEnrolment(deps: SecondFactorDeps, holder: { accountId: string; last4: string }, requestId?: string): Promise<Enrolment> {
  const secret = newTotpSecret();
  const token = randomToken(24);
  await inTransaction(deps.db, async (trx) => {
    await savePendingTotp(trx, holder.accountId, {
      pendingSealed: seal(deps.sealKey, secret, sealAad(holder.accountId)),
      enrolTokenHash: Buffer.from(sha256Hex(token), 'hex'),
      ttlSeconds: ENROLMENT_SECONDS,
    });
    await appendAudit(trx, { actor: `account:${holder.accountId}`, action: 'totp.enrolment_started', subjectType: 'account', subjectId: holder.accountId, requestId });
  });
  return { ...totpProvisioning(secret, `card ending ${holder.last4}`, deps.issuerLabel), token };
}

/**
 * The enrolment this browser started (its token), still pending: shown again when a code was refused, so a
 * holder who mistyped the key need not start over. Undefined once it expired or another replaced it.
 */
export async function pendingEnrolment(deps: SecondFactorDeps, holder: { accountId: string; last4: string }, token: string): Promise<Enrolment | undefined> {
  const sealed = livePendingSecret(await findTotpFactor(deps.db, holder.accountId), token);
  if (!sealed) return undefined;
  const secret = unseal(deps.sealKey, sealed, sealAad(holder.accountId));
  return { ...totpProvisioning(secret, `card ending ${holder.last4}`, deps.issuerLabel), token };
}

/** The sealed pending secret of the enrolment `token` started, while it is the live one (not expired, not replaced). */
export function livePendingSecret(f: TotpFactor | undefined, token: string): Buffer | undefined {
  if (!f?.pendingSealed || !f.enrolTokenHash || !f.enrolExpiresAt || f.enrolExpiresAt.getTime() <= Date.now()) return undefined;
  return safeEqual(f.enrolTokenHash.toString('hex'), sha256Hex(token)) ? f.pendingSealed : undefined;
}
