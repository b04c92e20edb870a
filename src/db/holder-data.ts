import type { Channel } from './outbox.ts';
import type { Conn } from './knex.ts';

/**
 * The reads only a holder's copy of their data needs (cards/export-holder-data.ts): what no page shows them one by
 * one. Each reads columns by name, so nothing secret (a device hash, a message's data) can come along.
 */

type Row = Record<string, unknown>;

/** When the account was opened. */
export async function accountOpenedAt(conn: Conn, accountId: string): Promise<Date | undefined> {
  const r = (await conn('accounts').select('created_at').where({ id: accountId }).first()) as Row | undefined;
  return r ? new Date(r.created_at as string) : undefined;
}

/**
 * When each of these cards first became closed and lost, by card id, from the audit log's status changes (a card
 * row keeps only its status now).
 */
export async function cardStopDates(conn: Conn, cardIds: readonly string[]): Promise<Map<string, { closedAt: Date | null; lostAt: Date | null }>> {
  if (cardIds.length === 0) return new Map();
  const rows = (await conn('audit_log')
    .select('subject_id', conn.raw("details->>'to' AS status"), conn.raw('min(at) AS at'))
    .where({ subject_type: 'card', action: 'card.status_changed' })
    .whereIn('subject_id', cardIds)
    .whereRaw("details->>'to' IN ('closed', 'lost')")
    .groupBy('subject_id', conn.raw("details->>'to'"))) as Row[];
  const dates = new Map<string, { closedAt: Date | null; lostAt: Date | null }>();
  for (const r of rows) {
    const d = dates.get(r.subject_id as string) ?? { closedAt: null, lostAt: null };
    d[r.status === 'closed' ? 'closedAt' : 'lostAt'] = new Date(r.at as string);
    dates.set(r.subject_id as string, d);
  }
  return dates;
}

/** The devices the account was used from, last seen first: when only, never the device's hash. */
export async function knownDeviceDates(conn: Conn, accountId: string, limit: number): Promise<Array<{ firstSeenAt: Date; lastSeenAt: Date }>> {
  const rows = (await conn('known_devices')
    .select('first_seen_at', 'last_seen_at')
    .where({ account_id: accountId })
    .orderBy('last_seen_at', 'desc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({ firstSeenAt: new Date(r.first_seen_at as string), lastSeenAt: new Date(r.last_seen_at as string) }));
}

/** A message queued for the account, as its holder may know of it: never its data (a one-time code, a link). */
export interface SentMessage {
  template: string;
  channel: Channel;
  recipient: string;
  status: string;
  createdAt: Date;
  sentAt: Date | null;
}

/** The messages queued for the account, newest first. */
export async function messagesOfAccount(conn: Conn, accountId: string, limit: number): Promise<SentMessage[]> {
  const rows = (await conn('notifications_outbox')
    .select('template', 'channel', 'recipient', 'status', 'created_at', 'sent_at')
    .where({ account_id: accountId })
    .orderBy('id', 'desc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({
    template: r.template as string,
    channel: r.channel as Channel,
    recipient: r.recipient as string,
    status: r.status as string,
    createdAt: new Date(r.created_at as string),
    sentAt: r.sent_at ? new Date(r.sent_at as string) : null,
  }));
}
