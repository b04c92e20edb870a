import { appendAudit } from '../db/audit-log.ts';
import { findAccount, findCardByNumberHmac, lockCard, type Account, type Card } from '../db/cards.ts';
import { countRecentCodes, insertCode } from '../db/one-time-codes.ts';
import { CODE_REQUEST_WINDOW_SECONDS, codeRequestKey, takeQuota } from '../db/throttles.ts';
import { inTransaction } from '../db/tx.ts';
import { newId, randomDigits } from '../lib/ids.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import { cardNumberHmac, normalizeCardNumber } from './card-number.ts';
import { CODE_DIGITS, CODE_PURPOSES, CodeLimitError, codeMinutes, hashCode, takesCode, type CodeDeps, type CodePurpose } from './one-time-code.ts';

export interface CodeRequest {
  cardNumber: string;
  purpose: CodePurpose;
  requestId?: string | undefined;
}

/**
 * Sends a one-time code to the registered email and mobile of the card's holder, through the outbox.
 * Returns nothing either way: the caller answers the same whether the card exists, is eligible, has a
 * contact or has asked too often in the hour, so the answer reveals nothing about the card.
 * Past config oneTimeCodes.maxPerDay requests naming the number for this purpose in a day it throws CodeLimitError
 * (429) instead: the daily cap is what bounds the guesses at a card's codes for good (README, Security), and a holder
 * must hear why no code comes. The day's requests are counted per number, a card's or not (a code_request throttle
 * row), so the refusal tells no card from a number no card has; a holder is told of it once a day (codes_stopped).
 */
export async function requestCode(deps: CodeDeps, req: CodeRequest): Promise<void> {
  const digits = normalizeCardNumber(req.cardNumber);
  if (!digits) return;
  const numberHmac = cardNumberHmac(deps.cardHmacKey, digits);
  const day = await takeQuota(deps.db, codeRequestKey(req.purpose, numberHmac.toString('hex')), deps.codes.maxPerDay, CODE_REQUEST_WINDOW_SECONDS);
  const { template } = CODE_PURPOSES[req.purpose];
  const card = await findCardByNumberHmac(deps.db, numberHmac);
  const account = card && (await takesCode(deps.db, req.purpose, card)) ? await findAccount(deps.db, card.accountId) : undefined;
  const reachable = card && account && (account.email || account.mobile) ? { card, account } : undefined;
  if (!day.taken) {
    if (reachable) await refuseForTheDay(deps, req, reachable, day.refusals === 1);
    throw new CodeLimitError(Math.max(1, Math.ceil((day.windowEnds.getTime() - Date.now()) / 1000)));
  }
  if (!reachable) return;

  await inTransaction(deps.db, async (trx) => {
    // The card lock serialises concurrent requests, so the hourly count holds.
    await lockCard(trx, reachable.card.id);
    const recent = await countRecentCodes(trx, reachable.card.id, req.purpose, 3600);
    const refused = recent >= deps.codes.maxPerHour;
    await appendAudit(trx, {
      actor: 'anonymous',
      action: refused ? 'card.code_refused' : 'card.code_sent',
      subjectType: 'card',
      subjectId: reachable.card.id,
      details: { purpose: req.purpose, ...(refused ? { reason: 'hourly limit' } : {}) },
      requestId: req.requestId,
    });
    if (refused) return;
    const id = newId();
    const code = randomDigits(CODE_DIGITS);
    await insertCode(trx, {
      id,
      accountId: reachable.account.id,
      cardId: reachable.card.id,
      purpose: req.purpose,
      codeHash: hashCode(deps.cardHmacKey, id, code),
      ttlSeconds: deps.codes.ttlSeconds,
    });
    await notify(trx, recipientOf(reachable.account), template, {
      code,
      last4: reachable.card.last4,
      minutes: codeMinutes(deps.codes),
    });
  });
}

/**
 * Audits a request past the day's codes and, at the first refusal of the day (`first`), tells the holder codes were
 * stopped (card.codes_stopped, which their activity shows: one entry a day per purpose, however many were refused).
 */
async function refuseForTheDay(deps: CodeDeps, req: CodeRequest, { card, account }: { card: Card; account: Account }, first: boolean): Promise<void> {
  const entry = { actor: 'anonymous', subjectType: 'card', subjectId: card.id, requestId: req.requestId };
  await inTransaction(deps.db, async (trx) => {
    if (first) {
      await notify(trx, recipientOf(account), 'codes_stopped', { purpose: req.purpose, last4: card.last4, count: deps.codes.maxPerDay });
      await appendAudit(trx, { ...entry, action: 'card.codes_stopped', details: { purpose: req.purpose } });
    }
    await appendAudit(trx, { ...entry, action: 'card.code_refused', details: { purpose: req.purpose, reason: 'daily limit' } });
  });
}
