import { timingSafeEqual } from 'node:crypto';
import { appendAudit } from '../db/audit-log.ts';
import { lockCard, type Card } from '../db/cards.ts';
import type { Trx } from '../db/knex.ts';
import { consumeCode, lockLatestCode, recordCodeAttempt } from '../db/one-time-codes.ts';
import { inTransaction } from '../db/tx.ts';
import { findCardByNumber } from './find-card-by-number.ts';
import { hashDeviceId } from './note-device.ts';
import {
  hashCode,
  InvalidCodeError,
  type CodeDeps,
  takesCode,
  type CodePurpose,
} from './one-time-code.ts';

export interface CodeRedemption {
  cardNumber: string;
  purpose: CodePurpose;
  code: string;
  /** The guessing browser's device cookie id (http/device-cookie.ts): a code asked from a known device answers it alone. */
  deviceId?: string | undefined;
}

type Outcome = { ok: true; card: Card } | { ok: false; error: 'invalid' | 'exhausted' };

/**
 * Checks the newest code sent for this card and purpose (the live one asked from the guessing device, when a device
 * the account knows asked for it; else the newest one no known device asked for) and uses it up: the card it proves, or
 * InvalidCodeError (wrong, expired, used, superseded, or dead after too many wrong guesses). A wrong guess is
 * counted and committed before the error is thrown. The code is spent even if the caller's action then
 * fails: one code, one attempt at the action. `beforeSpending`, if given, runs once the code has proved the card and
 * before it is spent: what it throws leaves the code unspent (a form the holder can correct and send again).
 */
export async function redeemCode(
  deps: CodeDeps,
  r: CodeRedemption,
  beforeSpending?: (trx: Trx, card: Card) => Promise<void>,
): Promise<Card> {
  const card = await findCardByNumber(deps.db, deps.cardHmacKey, r.cardNumber);
  if (!card) throw new InvalidCodeError();
  const outcome = await inTransaction(deps.db, async (trx): Promise<Outcome> => {
    const current = await lockCard(trx, card.id);
    // A code asked from a known device is not this guess's to try, nor to use up, unless it comes from that device.
    const code = await lockLatestCode(trx, card.id, r.purpose, r.deviceId === undefined ? undefined : hashDeviceId(deps.cardHmacKey, r.deviceId));
    if (!current || !(await takesCode(trx, r.purpose, current))) return { ok: false, error: 'invalid' };
    if (!code || code.consumedAt || code.expired) return { ok: false, error: 'invalid' };
    if (code.attempts >= deps.codes.maxAttempts) return { ok: false, error: 'exhausted' };
    if (!timingSafeEqual(hashCode(deps.cardHmacKey, code.id, r.code), code.codeHash)) {
      await recordCodeAttempt(trx, code.id);
      // The holder sees every wrong code on their activity page, as every wrong password: someone may be at their card.
      await appendAudit(trx, {
        actor: 'anonymous',
        action: 'card.code_failed',
        subjectType: 'card',
        subjectId: current.id,
        details: { accountId: current.accountId, purpose: r.purpose },
      });
      return code.attempts + 1 < deps.codes.maxAttempts ? { ok: false, error: 'invalid' } : { ok: false, error: 'exhausted' };
    }
    await beforeSpending?.(trx, current);
    await consumeCode(trx, code.id);
    return { ok: true, card: current };
  });
  if (outcome.ok) return outcome.card;
  // Never the tries left, nor that the tries ran out: whoever types only a card number must not tell, by the answer, a
  // number with a live code (a real card whose holder, or someone, just asked for one) from any other. A code killed
  // by its fifth wrong guess answers as an expired one; the message already says to ask for a new one.
  throw new InvalidCodeError(['code']);
}
