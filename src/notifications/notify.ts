import { findAccount, type Account } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { insertOutboxMessage, type NewOutboxMessage } from '../db/outbox.ts';
import type { Locale } from '../lib/i18n.ts';

export interface Recipient {
  accountId: string | null;
  email: string | null;
  mobile: string | null;
  /** The language the messages are written in: the recipient's own (a guardian's for a ward's news). */
  locale: Locale;
}

/** The holder of `account` at the contacts, and in the language, the account has now. */
export function recipientOf(account: Pick<Account, 'id' | 'email' | 'mobile' | 'locale'>): Recipient {
  return { accountId: account.id, email: account.email, mobile: account.mobile, locale: account.locale };
}

/**
 * Queues one notification to every channel the holder registered (email and/or mobile), inside the
 * caller's transaction. Templates are rendered by the sender, in the recipient's language; `data` must
 * never hold a card number or password (last four digits only).
 */
export async function notify(conn: Conn, to: Recipient, template: string, data: Record<string, unknown> = {}): Promise<void> {
  await insertOutboxMessage(conn, notificationsTo(to, template, data));
}

/** The messages notify() queues: one per channel the holder registered. For a caller that writes them itself. */
export function notificationsTo(to: Recipient, template: string, data: Record<string, unknown> = {}): NewOutboxMessage[] {
  const messages: NewOutboxMessage[] = [];
  const { accountId, locale } = to;
  if (to.email) messages.push({ accountId, channel: 'email', recipient: to.email, template, data, locale });
  if (to.mobile) messages.push({ accountId, channel: 'sms', recipient: to.mobile, template, data, locale });
  return messages;
}

/** notify() to the holder of `accountId`, at the contacts their account has now (nothing if it has gone). */
export async function notifyHolder(conn: Conn, accountId: string, template: string, data: Record<string, unknown> = {}): Promise<void> {
  const account = await findAccount(conn, accountId);
  if (account) await notify(conn, recipientOf(account), template, data);
}
