import { findAccount } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { insertOutboxMessage, type NewOutboxMessage } from '../db/outbox.ts';

export interface Recipient {
  accountId: string | null;
  email: string | null;
  mobile: string | null;
}

/**
 * Queues one notification to every channel the holder registered (email and/or mobile), inside the
 * caller's transaction. Templates are rendered by the sender; `data` must never hold a card number
 * or password (last four digits only).
 */
export async function notify(conn: Conn, to: Recipient, template: string, data: Record<string, unknown> = {}): Promise<void> {
  await insertOutboxMessage(conn, notificationsTo(to, template, data));
}

/** The messages notify() queues: one per channel the holder registered. For a caller that writes them itself. */
export function notificationsTo(to: Recipient, template: string, data: Record<string, unknown> = {}): NewOutboxMessage[] {
  const messages: NewOutboxMessage[] = [];
  if (to.email) messages.push({ accountId: to.accountId, channel: 'email', recipient: to.email, template, data });
  if (to.mobile) messages.push({ accountId: to.accountId, channel: 'sms', recipient: to.mobile, template, data });
  return messages;
}

/** notify() to the holder of `accountId`, at the contacts their account has now (nothing if it has gone). */
export async function notifyHolder(conn: Conn, accountId: string, template: string, data: Record<string, unknown> = {}): Promise<void> {
  const account = await findAccount(conn, accountId);
  if (account) await notify(conn, { accountId: account.id, email: account.email, mobile: account.mobile }, template, data);
}
