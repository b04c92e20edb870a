import { appendAudit } from '../db/audit-log.ts';
import { setAccountContacts, type Account } from '../db/cards.ts';
import { retireAccountCodes } from '../db/one-time-codes.ts';
import type { Trx } from '../db/knex.ts';
import { maskContact } from '../lib/mask-contact.ts';
import { notify, recipientOf } from '../notifications/notify.ts';
import type { NewContacts } from './new-contacts.ts';

export interface ContactsWrite {
  /** The account as it was (locked by the caller). */
  account: Account;
  change: NewContacts;
  /** The card the change was made for: its last four digits go into the messages. */
  card: { id: string; last4: string };
  by: 'holder' | 'operator';
  actor: string;
  /** The operator's reason. */
  reason?: string | undefined;
  requestId?: string | undefined;
}

/**
 * Sets the account's new email and/or mobile in the caller's transaction, with the audit entry
 * `account.contacts_changed` (old and new masked: the audit log is read widely and kept for good), a notice to
 * every contact the account had (whoever changed them away can be told of it there) and a confirmation to each new one;
 * one-time codes still open are retired.
 */
export async function writeContacts(trx: Trx, w: ContactsWrite): Promise<Account> {
  const { account, change } = w;
  await setAccountContacts(trx, account.id, change);
  // Codes already sent to the old contacts (lost card, reissue, password reset) die with them: whoever still reads an
  // old mailbox or a recycled number must not use one.
  await retireAccountCodes(trx, account.id);
  const details: Record<string, unknown> = { cardId: w.card.id, by: w.by };
  if (change.email !== undefined) details.email = { from: maskContact('email', account.email), to: maskContact('email', change.email) };
  if (change.mobile !== undefined) details.mobile = { from: maskContact('mobile', account.mobile), to: maskContact('mobile', change.mobile) };
  if (w.reason !== undefined) details.reason = w.reason;
  await appendAudit(trx, {
    actor: w.actor,
    action: 'account.contacts_changed',
    subjectType: 'account',
    subjectId: account.id,
    details,
    requestId: w.requestId,
  });
  const base = { last4: w.card.last4, by: w.by };
  await notify(trx, recipientOf(account), 'contacts_changed', {
    ...base,
    newEmail: maskContact('email', change.email),
    newMobile: maskContact('mobile', change.mobile),
  });
  if (change.email !== undefined) await notify(trx, { ...recipientOf(account), email: change.email, mobile: null }, 'contacts_confirmed', { ...base, channel: 'email' });
  if (change.mobile !== undefined) await notify(trx, { ...recipientOf(account), email: null, mobile: change.mobile }, 'contacts_confirmed', { ...base, channel: 'sms' });
  return { ...account, ...change };
}
