import { lockValues } from '../db/advisory-lock.ts';
import { appendAudit } from '../db/audit-log.ts';
import { findAccount, lockAccount } from '../db/cards.ts';
import { countRecentContactChanges, insertContactChange } from '../db/contact-changes.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { newId, randomDigits } from '../lib/ids.ts';
import { maskContact } from '../lib/mask-contact.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import { contactLocks } from './application-locks.ts';
import { ContactChangeLimitError, type ContactChangeDeps } from './contact-change.ts';
import { proofChannelFor, readNewContacts, refuseContactsInUse, type ContactsInput } from './new-contacts.ts';
import { CODE_DIGITS, codeMinutes, hashCode } from './one-time-code.ts';
import { OPEN_OR_CLOSED } from './former-holder.ts';
import { proveSignedInCard } from './prove-with-password.ts';

export interface ContactChangeRequest extends ContactsInput {
  accountId: string;
  /** The signed-in card, whose password is typed again: a session may be old. */
  cardId: string;
  password: string;
  requestId?: string | undefined;
}

export interface ContactChangeSent {
  /** Where the codes went, masked: the new address, and the contact kept, which proves the change. */
  email: string | null;
  mobile: string | null;
  current: { channel: 'email' | 'sms'; address: string };
  expiresInSeconds: number;
}

type Outcome = { sent: ContactChangeSent } | { waitSeconds: number; daily: boolean } | { inUse: ValidationError };

const DAY_SECONDS = 24 * 3600;

/**
 * A signed-in holder asks to change their email and/or mobile: the card password again, well-formed new values
 * that differ from the account's and that no other holder with an open card has (the application's rules). A code
 * goes to each new address (an email code by email, an SMS code by SMS) and one to the contact kept, which must prove
 * the change (proofChannelFor: one contact at a time); nothing changes until confirmContactChange gets them all. Throws CardPasswordError (a wrong password: the caller counts it), ValidationError on the fields,
 * or ContactChangeLimitError past config oneTimeCodes.maxPerHour requests an hour or maxPerDay in 24 hours. Each request is
 * told to the contact kept (contacts_change_proof), so a holder hears of every one they did not make.
 */
export async function requestContactChange(deps: ContactChangeDeps, req: ContactChangeRequest): Promise<ContactChangeSent> {
  const account = await findAccount(deps.db, req.accountId);
  if (!account) throw new NotFoundError('There is no such account.');
  const change = readNewContacts(account, req, deps.mobileCallingCode);
  const proofChannel = proofChannelFor(account, change);
  const card = await proveSignedInCard(deps, {
    cardId: req.cardId,
    accountId: account.id,
    password: req.password,
    via: { page: 'contact_change', requestId: req.requestId },
    // A former holder's closed card too: statements of what is still owed go to these contacts.
    statuses: OPEN_OR_CLOSED,
  });

  const outcome = await inTransaction(deps.db, async (trx): Promise<Outcome> => {
    // The contact locks first (as apply() takes them), then the account: it serialises this account's requests, so the hourly count holds.
    await lockValues(trx, contactLocks(change));
    const current = await lockAccount(trx, account.id);
    if (!current) throw new NotFoundError('There is no such account.');
    const actor = `card:${card.id}`;
    // The daily limit first: it alone bounds the guesses at the code to the contact kept for good (README, Security).
    const today = await countRecentContactChanges(trx, account.id, DAY_SECONDS);
    const recent = await countRecentContactChanges(trx, account.id, 3600);
    const limit = today.count >= deps.codes.maxPerDay ? { reason: 'daily limit', leavesIn: today } : recent.count >= deps.codes.maxPerHour ? { reason: 'hourly limit', leavesIn: recent } : undefined;
    if (limit) {
      await appendAudit(trx, {
        actor,
        action: 'account.contacts_change_refused',
        subjectType: 'account',
        subjectId: account.id,
        details: { cardId: card.id, reason: limit.reason },
        requestId: req.requestId,
      });
      return { waitSeconds: limit.leavesIn.oldestLeavesIn, daily: limit.reason === 'daily limit' };
    }
    try {
      await refuseContactsInUse(trx, current, change);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // Kept (this transaction commits) and counted towards the hourly limit: see countRecentContactChanges.
      await appendAudit(trx, {
        actor,
        action: 'account.contacts_change_refused',
        subjectType: 'account',
        subjectId: account.id,
        details: { cardId: card.id, reason: 'in use', fields: Object.keys(err.fields ?? {}) },
        requestId: req.requestId,
      });
      return { inUse: err };
    }
    const id = newId();
    const emailCode = change.email !== undefined ? randomDigits(CODE_DIGITS) : undefined;
    const mobileCode = change.mobile !== undefined ? randomDigits(CODE_DIGITS) : undefined;
    const proofCode = randomDigits(CODE_DIGITS);
    const kept = proofChannel === 'email' ? current.email! : current.mobile!;
    await insertContactChange(trx, {
      id,
      accountId: account.id,
      cardId: card.id,
      newEmail: change.email ?? null,
      newMobile: change.mobile ?? null,
      emailCodeHash: emailCode ? hashCode(deps.cardHmacKey, `${id}:email`, emailCode) : null,
      mobileCodeHash: mobileCode ? hashCode(deps.cardHmacKey, `${id}:mobile`, mobileCode) : null,
      proofChannel,
      proofCodeHash: hashCode(deps.cardHmacKey, `${id}:proof`, proofCode),
      ttlSeconds: deps.codes.ttlSeconds,
    });
    const data = { last4: card.last4, minutes: codeMinutes(deps.codes) };
    if (emailCode) await notify(trx, { ...recipientOf(account), email: change.email!, mobile: null }, 'contacts_change_code', { ...data, channel: 'email', code: emailCode });
    if (mobileCode) await notify(trx, { ...recipientOf(account), email: null, mobile: change.mobile! }, 'contacts_change_code', { ...data, channel: 'sms', code: mobileCode });
    // The contact kept hears of the change before it is made, and holds the code without which it is not.
    await notify(trx, { ...recipientOf(account), email: proofChannel === 'email' ? kept : null, mobile: proofChannel === 'sms' ? kept : null }, 'contacts_change_proof', {
      ...data,
      code: proofCode,
      newEmail: maskContact('email', change.email),
      newMobile: maskContact('mobile', change.mobile),
    });
    const sent = {
      email: maskContact('email', change.email),
      mobile: maskContact('mobile', change.mobile),
      current: { channel: proofChannel, address: maskContact(proofChannel === 'email' ? 'email' : 'mobile', kept)! },
      expiresInSeconds: deps.codes.ttlSeconds,
    };
    await appendAudit(trx, {
      actor,
      action: 'account.contacts_change_requested',
      subjectType: 'account',
      subjectId: account.id,
      details: { cardId: card.id, ...(sent.email ? { email: sent.email } : {}), ...(sent.mobile ? { mobile: sent.mobile } : {}) },
      requestId: req.requestId,
    });
    return { sent };
  });
  if ('waitSeconds' in outcome) throw new ContactChangeLimitError(outcome.waitSeconds, outcome.daily);
  if ('inUse' in outcome) throw outcome.inUse;
  return outcome.sent;
}
