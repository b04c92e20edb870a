import { appendAudit } from '../db/audit-log.ts';
import { findAccount, findCardByNumberHmac, lockCard, type Account, type Card } from '../db/cards.ts';
import { isKnownDevice } from '../db/known-devices.ts';
import { countRecentCodes, insertCode } from '../db/one-time-codes.ts';
import { CODE_REQUEST_WINDOW_SECONDS, codeRequestKey, knownDeviceCodeRequestKey, takeQuota, type QuotaUse } from '../db/throttles.ts';
import { inTransaction } from '../db/tx.ts';
import { newId, randomDigits } from '../lib/ids.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import { cardNumberHmac, normalizeCardNumber } from './card-number.ts';
import { hashDeviceId } from './note-device.ts';
import { CODE_DIGITS, CODE_PURPOSES, CodeLimitError, codeMinutes, hashCode, takesCode, type CodeDeps, type CodePurpose } from './one-time-code.ts';

export interface CodeRequest {
  cardNumber: string;
  purpose: CodePurpose;
  /** The asking browser's device cookie id (http/device-cookie.ts), if it sent one that verifies. */
  deviceId?: string | undefined;
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
 * A request from a device known to the card's account (it logged in there with the password: known_devices) takes
 * one of config oneTimeCodes.knownDeviceMaxPerDay codes kept for the holder first (a row of its own, which no one
 * without such a device can spend), and is not held back by the hourly limit; past that share it counts as any other.
 * Whichever share it came from, a code asked from a known device is bound to it (redeem-code.ts): only that device may
 * use or guess at it, and a code asked from elsewhere does not replace it.
 */
export async function requestCode(deps: CodeDeps, req: CodeRequest): Promise<void> {
  const digits = normalizeCardNumber(req.cardNumber);
  if (!digits) return;
  const numberHmac = cardNumberHmac(deps.cardHmacKey, digits);
  const { template } = CODE_PURPOSES[req.purpose];
  const card = await findCardByNumberHmac(deps.db, numberHmac);
  const account = card && (await takesCode(deps.db, req.purpose, card)) ? await findAccount(deps.db, card.accountId) : undefined;
  const reachable = card && account && (account.email || account.mobile) ? { card, account } : undefined;
  const knownDevice = reachable ? await knownDeviceOf(deps, reachable.card, req) : undefined;
  const kept = knownDevice && deps.codes.knownDeviceMaxPerDay > 0 ? await takeKeptShare(deps, req.purpose, numberHmac) : undefined;
  if (!kept?.taken) {
    const day = await takeQuota(deps.db, codeRequestKey(req.purpose, numberHmac.toString('hex')), deps.codes.maxPerDay, CODE_REQUEST_WINDOW_SECONDS);
    if (!day.taken) {
      if (reachable) await refuseForTheDay(deps, req, reachable, day.refusals === 1);
      // A known device past both shares may ask again when the first of them has a use free.
      const ends = kept && kept.windowEnds < day.windowEnds ? kept.windowEnds : day.windowEnds;
      throw new CodeLimitError(Math.max(1, Math.ceil((ends.getTime() - Date.now()) / 1000)));
    }
  }
  if (!reachable) return;
  const reserved = kept?.taken === true;

  await inTransaction(deps.db, async (trx) => {
    // The card lock serialises concurrent requests, so the hourly count holds.
    await lockCard(trx, reachable.card.id);
    const recent = await countRecentCodes(trx, reachable.card.id, req.purpose, 3600);
    // The kept share is a few a day: the hourly limit, which anyone who knows the number can fill, does not hold it back.
    const refused = !reserved && recent >= deps.codes.maxPerHour;
    await appendAudit(trx, {
      actor: 'anonymous',
      action: refused ? 'card.code_refused' : 'card.code_sent',
      subjectType: 'card',
      subjectId: reachable.card.id,
      details: { purpose: req.purpose, ...(refused ? { reason: 'hourly limit' } : {}), ...(reserved ? { knownDevice: true } : {}) },
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
      // Asked from the holder's known device: that device alone may use it, and no code asked elsewhere replaces it.
      deviceHash: knownDevice,
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

/** The keyed hash of the asking device, if the card's account logged in from it (known_devices). */
async function knownDeviceOf(deps: CodeDeps, card: Card, req: CodeRequest): Promise<Buffer | undefined> {
  if (!req.deviceId) return undefined;
  const hash = hashDeviceId(deps.cardHmacKey, req.deviceId);
  return (await isKnownDevice(deps.db, card.accountId, hash)) ? hash : undefined;
}

/** Takes one of the day's codes kept for the holder's known devices (config oneTimeCodes.knownDeviceMaxPerDay). */
function takeKeptShare(deps: CodeDeps, purpose: CodePurpose, numberHmac: Buffer): Promise<QuotaUse> {
  return takeQuota(deps.db, knownDeviceCodeRequestKey(purpose, numberHmac.toString('hex')), deps.codes.knownDeviceMaxPerDay, CODE_REQUEST_WINDOW_SECONDS);
}
