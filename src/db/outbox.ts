import { DEFAULT_LOCALE, isLocale, type Locale } from '../lib/i18n.ts';
import type { Conn } from './knex.ts';
import { claimDue } from './outbox-leases.ts';
import { jsonValue } from './rows.ts';

export type Channel = 'email' | 'sms';

export interface OutboxMessage {
  id: number;
  accountId: string | null;
  channel: Channel;
  recipient: string;
  template: string;
  data: Record<string, unknown>;
  /** The recipient's language when it was queued; the sender renders in it. */
  locale: Locale;
  attempts: number;
}

export interface NewOutboxMessage {
  accountId: string | null;
  channel: Channel;
  recipient: string;
  template: string;
  data?: Record<string, unknown>;
  locale: Locale;
}

/** Queues a message, or several in one statement; call it in the transaction of the change it announces. */
export async function insertOutboxMessage(conn: Conn, m: NewOutboxMessage | readonly NewOutboxMessage[]): Promise<void> {
  const messages = Array.isArray(m) ? m : [m as NewOutboxMessage];
  if (messages.length === 0) return;
  await conn('notifications_outbox').insert(outboxRecords(messages).map((r) => ({ ...r, data: JSON.stringify(r.data) })));
}

/**
 * Messages as notifications_outbox rows, data as an object, not yet JSON text (insertOutboxMessage,
 * and insertIssuedApplication, which sends them as one JSON array).
 */
export function outboxRecords(messages: readonly NewOutboxMessage[]): Array<Record<string, unknown>> {
  return messages.map((m) => ({ account_id: m.accountId, channel: m.channel, recipient: m.recipient, template: m.template, data: m.data ?? {}, locale: m.locale }));
}

/**
 * Claims the next due message for `leaseSeconds`, in one statement, and returns it: its next attempt is moved past the
 * lease, so no other sender (this instance's or another's) takes it while this one sends it (SKIP LOCKED: two claiming
 * at once get two different messages), and no transaction or lock is held meanwhile, which a slow gateway could
 * otherwise outlast (idle_in_transaction_session_timeout ends it, its lock goes, and another sender sends the message
 * again). A sender that dies mid-send leaves it due again when the lease ends.
 */
export async function claimDueMessage(conn: Conn, leaseSeconds: number): Promise<OutboxMessage | undefined> {
  const row = await claimDue(conn, 'notifications_outbox', MESSAGE_COLUMNS, leaseSeconds);
  return row ? outboxMessage(row) : undefined;
}

const MESSAGE_COLUMNS = ['id', 'account_id', 'channel', 'recipient', 'template', 'data', 'locale', 'attempts'] as const;

function outboxMessage(r: Record<string, unknown>): OutboxMessage {
  return {
    id: Number(r.id),
    accountId: (r.account_id as string | null) ?? null,
    channel: r.channel as Channel,
    recipient: r.recipient as string,
    template: r.template as string,
    data: jsonValue<Record<string, unknown>>(r.data),
    locale: isLocale(r.locale) ? r.locale : DEFAULT_LOCALE,
    attempts: r.attempts as number,
  };
}

/**
 * Records a message sent. One another sender already recorded sent (it claimed the message when this one's lease ran
 * out: claimDueMessage) is left as it is.
 */
export async function markSent(conn: Conn, id: number): Promise<void> {
  await conn('notifications_outbox')
    .where({ id })
    .whereNot({ status: 'sent' })
    .update({ status: 'sent', sent_at: conn.fn.now(), attempts: conn.raw('attempts + 1') });
}

/**
 * Records a failed attempt; retried later with backoff until `maxAttempts`, then marked failed. Only while the message
 * is pending: a failure that comes in after another sender, which claimed the message once this one's lease ran out,
 * has sent it (or given up on it) would otherwise make it pending again, and send it once more.
 */
export async function markAttemptFailed(conn: Conn, id: number, error: string, maxAttempts: number): Promise<void> {
  await conn('notifications_outbox')
    .where({ id, status: 'pending' })
    .update({
      attempts: conn.raw('attempts + 1'),
      last_error: error.slice(0, 500),
      status: conn.raw("CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END", [maxAttempts]),
      next_attempt_at: conn.raw('now() + make_interval(secs => 30 * power(2, attempts))'),
    });
}

/** Messages queued for an account, newest last (holder history, tests). */
export async function listOutboxForAccount(conn: Conn, accountId: string): Promise<Array<OutboxMessage & { status: string }>> {
  const rows = (await conn('notifications_outbox').where({ account_id: accountId }).orderBy('id')) as Record<string, unknown>[];
  return rows.map((r) => ({ ...outboxMessage(r), status: r.status as string }));
}

/** Drops secret fields (one-time codes) from a message's data once it is sent or given up on. */
export async function redactOutboxData(conn: Conn, id: number, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await conn('notifications_outbox')
    .where({ id })
    // One binding, the keys as a text[] (ARRAY[?] would make it an array of one element, the keys' array literal).
    .update({ data: conn.raw('data - ?::text[]', [[...keys]]) });
}

/** What the outbox still has to send: how many messages, and how long the oldest has waited. */
export interface OutboxBacklog {
  /** Messages still to be sent: due now, or backing off before another attempt (status pending). */
  pending: number;
  /** Seconds since the oldest of them was queued; 0 when there are none. */
  oldestPendingSeconds: number;
}

/**
 * The outbox's backlog (metrics read it at each scrape). One pass over the pending rows only: the
 * (status, next_attempt_at) index leads with status, so the sent and failed rows, nearly all of the
 * table, are never read.
 */
export async function outboxBacklog(conn: Conn): Promise<OutboxBacklog> {
  const row = (await conn('notifications_outbox')
    .where({ status: 'pending' })
    .first(conn.raw('count(*)::int AS pending'), conn.raw('coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest'))) as
    | { pending: number; oldest: number }
    | undefined;
  return { pending: row?.pending ?? 0, oldestPendingSeconds: Math.max(0, row?.oldest ?? 0) };
}
