import { appendAudit, hasRecentEntry } from '../db/audit-log.ts';
import { findAccount, lockCard } from '../db/cards.ts';
import { countCodesWithin, countRecentCodes, insertCode } from '../db/one-time-codes.ts';
import { inTransaction } from '../db/tx.ts';
import { newId, randomDigits } from '../lib/ids.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import { findCardByNumber } from './find-card-by-number.ts';
import { CODE_DIGITS, CODE_PURPOSES, CodeLimitError, codeMinutes, hashCode, takesCode, type CodeDeps, type CodePurpose } from './one-time-code.ts';

export interface CodeRequest {
  cardNumber: string;
  purpose: CodePurpose;
  requestId?: string | undefined;
}

const DAY_SECONDS = 24 * 3600;

/**
 * Sends a one-time code to the registered email and mobile of the card's holder, through the outbox.
 * Returns nothing either way: the caller answers the same whether the card exists, is eligible, has a
 * contact or has asked too often in the hour, so the answer reveals nothing about the card.
 * Past config oneTimeCodes.maxPerDay codes of this purpose in 24 hours it throws CodeLimitError (429) instead: the
 * daily cap is what bounds the guesses at a card's codes for good (README, Security), and a holder must hear why no
 * code comes. That answer tells a real card only to whoever already had it sent a day's codes, which its holder got,
 * and is told of once (codes_stopped).
 */
export async function requestCode(deps: CodeDeps, req: CodeRequest): Promise<void> {
  const { template } = CODE_PURPOSES[req.purpose];
  const card = await findCardByNumber(deps.db, deps.cardHmacKey, req.cardNumber);
  if (!card || !(await takesCode(deps.db, req.purpose, card))) return;
  const account = await findAccount(deps.db, card.accountId);
  if (!account || (!account.email && !account.mobile)) return;

  const waitSeconds = await inTransaction(deps.db, async (trx): Promise<number | undefined> => {
    // The card lock serialises concurrent requests, so the hourly and daily counts hold.
    await lockCard(trx, card.id);
    const today = await countCodesWithin(trx, card.id, req.purpose, DAY_SECONDS);
    if (today.count >= deps.codes.maxPerDay) {
      const refusal = { purpose: req.purpose, reason: 'daily limit' };
      // Once a day per purpose: codes the holder may not have asked for were stopped, and whom to turn to.
      const told = await hasRecentEntry(trx, { subjectType: 'card', subjectId: card.id, action: 'card.code_refused', details: { ...refusal, holderTold: true }, seconds: DAY_SECONDS });
      if (!told) await notify(trx, recipientOf(account), 'codes_stopped', { purpose: req.purpose, last4: card.last4, count: today.count });
      await appendAudit(trx, {
        actor: 'anonymous',
        action: 'card.code_refused',
        subjectType: 'card',
        subjectId: card.id,
        details: { ...refusal, ...(told ? {} : { holderTold: true }) },
        requestId: req.requestId,
      });
      return today.oldestLeavesIn;
    }
    const recent = await countRecentCodes(trx, card.id, req.purpose, 3600);
    const refused = recent >= deps.codes.maxPerHour;
    await appendAudit(trx, {
      actor: 'anonymous',
      action: refused ? 'card.code_refused' : 'card.code_sent',
      subjectType: 'card',
      subjectId: card.id,
      details: { purpose: req.purpose, ...(refused ? { reason: 'hourly limit' } : {}) },
      requestId: req.requestId,
    });
    if (refused) return undefined;
    const id = newId();
    const code = randomDigits(CODE_DIGITS);
    await insertCode(trx, {
      id,
      accountId: account.id,
      cardId: card.id,
      purpose: req.purpose,
      codeHash: hashCode(deps.cardHmacKey, id, code),
      ttlSeconds: deps.codes.ttlSeconds,
    });
    await notify(trx, recipientOf(account), template, {
      code,
      last4: card.last4,
      minutes: codeMinutes(deps.codes),
    });
    return undefined;
  });
  if (waitSeconds !== undefined) throw new CodeLimitError(waitSeconds);
}
