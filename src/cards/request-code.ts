import { appendAudit } from '../db/audit-log.ts';
import { findAccount, lockCard } from '../db/cards.ts';
import { countRecentCodes, insertCode } from '../db/one-time-codes.ts';
import { inTransaction } from '../db/tx.ts';
import { newId, randomDigits } from '../lib/ids.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import { findCardByNumber } from './find-card-by-number.ts';
import { CODE_DIGITS, CODE_PURPOSES, codeMinutes, hashCode, takesCode, type CodeDeps, type CodePurpose } from './one-time-code.ts';

export interface CodeRequest {
  cardNumber: string;
  purpose: CodePurpose;
  requestId?: string | undefined;
}

/**
 * Sends a one-time code to the registered email and mobile of the card's holder, through the outbox.
 * Returns nothing either way: the caller answers the same whether the card exists, is eligible, has a
 * contact or has asked too often, so the answer reveals nothing about the card.
 */
export async function requestCode(deps: CodeDeps, req: CodeRequest): Promise<void> {
  const { template } = CODE_PURPOSES[req.purpose];
  const card = await findCardByNumber(deps.db, deps.cardHmacKey, req.cardNumber);
  if (!card || !(await takesCode(deps.db, req.purpose, card))) return;
  const account = await findAccount(deps.db, card.accountId);
  if (!account || (!account.email && !account.mobile)) return;

  await inTransaction(deps.db, async (trx) => {
    // The card lock serialises concurrent requests, so the hourly count holds.
    await lockCard(trx, card.id);
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
    if (refused) return;
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
  });
}
