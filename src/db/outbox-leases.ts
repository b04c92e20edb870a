import { DIRECTORY_CHANNEL } from './directory.ts';
import type { Conn } from './knex.ts';

/**
 * The posts to member sites that wait in an outbox table of their own (backchannel_logouts, approval_events): each has
 * id, status (pending, sent, failed), attempts, last_error, next_attempt_at and sent_at, and is sent by a sender in
 * every instance (oidc/outbox-sender.ts). These are the statements they share.
 */
export type SiteOutbox = 'backchannel_logouts' | 'approval_events';

/**
 * What the directory channel carries when `table` has new rows: db/directory.ts hands it on (no member site or resource
 * server has that key, so it forgets none), and app.ts nudges the table's sender.
 */
export function queuedAnnouncement(table: SiteOutbox): string {
  return `outbox:${table}`;
}

/**
 * Tells every instance that `table` has rows to post, so that its sender drains now rather than at its next pass (up to
 * senderIntervalSeconds later). Call it in the transaction that queued them: PostgreSQL delivers a notification when
 * that commits, never when it rolls back, and once however often a transaction sends the same one.
 */
export async function announceQueued(conn: Conn, table: SiteOutbox): Promise<void> {
  await conn.raw('SELECT pg_notify(?, ?)', [DIRECTORY_CHANNEL, queuedAnnouncement(table)]);
}

/**
 * Claims the next due row of `table` (a site outbox, or notifications_outbox: db/outbox.ts) for `leaseSeconds`, in one statement, and returns `columns` of it: its next
 * attempt is moved past the lease, so no other sender takes it while this one posts it (SKIP LOCKED: two claiming at
 * once get two different rows), and nothing is held open meanwhile. A sender that dies mid-post leaves it due again
 * when the lease ends. `inOrderPerSite`: a row is claimed only when no earlier row of its site is still pending (in
 * flight, or waiting to be tried again), so each site gets its rows one at a time and in the order they were queued.
 */
export async function claimDue(
  conn: Conn,
  table: SiteOutbox | 'notifications_outbox',
  columns: readonly string[],
  leaseSeconds: number,
  opts: { inOrderPerSite?: boolean } = {},
): Promise<Record<string, unknown> | undefined> {
  const first = opts.inOrderPerSite ? `AND NOT EXISTS (SELECT 1 FROM ?? e WHERE e.client_id = o.client_id AND e.status = 'pending' AND e.id < o.id)` : '';
  const r = (await conn.raw(
    `UPDATE ?? SET next_attempt_at = now() + make_interval(secs => ?)
     WHERE id = (SELECT id FROM ?? o WHERE status = 'pending' AND next_attempt_at <= now() ${first} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING ${columns.map(() => '??').join(', ')}`,
    [table, leaseSeconds, table, ...(opts.inOrderPerSite ? [table] : []), ...columns],
  )) as { rows: Record<string, unknown>[] };
  return r.rows[0];
}

export async function markSent(conn: Conn, table: SiteOutbox, id: number): Promise<void> {
  await conn(table).where({ id }).update({ status: 'sent', sent_at: conn.fn.now(), attempts: conn.raw('attempts + 1'), last_error: null });
}

/**
 * Records a failed attempt: tried again after 30 s, 60 s, 120 s… until `maxAttempts`, then failed. `giveUp` fails it
 * at once (the site is closed, took its URI away, refused the post for good, or its URI is at a non-public address).
 */
export async function markAttemptFailed(conn: Conn, table: SiteOutbox, id: number, error: string, maxAttempts: number, giveUp = false): Promise<void> {
  await conn(table)
    .where({ id })
    .update({
      attempts: conn.raw('attempts + 1'),
      last_error: error.slice(0, 500),
      status: giveUp ? 'failed' : conn.raw("CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END", [maxAttempts]),
      next_attempt_at: conn.raw('now() + make_interval(secs => 30 * power(2, attempts))'),
    });
}
