import type { Conn } from './knex.ts';

/** A Logout Token still to be posted to a member site (Back-Channel Logout 1.0), as the sender claims it. */
export interface QueuedLogout {
  id: number;
  clientId: string;
  /** The holder account: the sender derives from it the subject the site knows (pairwise per site). */
  accountId: string;
  /** The session id the site's ID token carried, when the site asked for it (backchannel_logout_session_required). */
  sid: string | null;
  reason: string;
  attempts: number;
}

const T = 'backchannel_logouts';

/** A member site the holder had a session or grant with, and that takes Logout Tokens. */
interface LogoutTarget {
  client_id: string;
  sid_required: boolean;
  sid: string | null;
}

/**
 * The member sites with a backchannel_logout_uri (not closed) that hold a live session or grant of the account, with
 * each session id they were given (a Session's authorizations name them per site; a Grant alone has none).
 */
async function logoutTargets(conn: Conn, accountId: string): Promise<LogoutTarget[]> {
  const live = (alias: string) => `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`;
  const r = (await conn.raw(
    `SELECT s.client_id, s.backchannel_logout_session_required AS sid_required, t.sid
     FROM (
       SELECT a.key AS client_id, a.value->>'sid' AS sid
       FROM oidc_payloads p
       CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(p.payload->'authorizations') = 'object' THEN p.payload->'authorizations' ELSE '{}'::jsonb END) a
       WHERE p.model = 'Session' AND p.payload->>'accountId' = ? AND ${live('p')}
       UNION
       SELECT p.payload->>'clientId', NULL FROM oidc_payloads p WHERE p.model = 'Grant' AND p.payload->>'accountId' = ? AND ${live('p')}
     ) t
     JOIN member_sites s ON s.client_id = t.client_id
     WHERE s.backchannel_logout_uri IS NOT NULL AND s.status <> 'closed'
     ORDER BY s.client_id, t.sid`,
    [accountId, accountId],
  )) as { rows: LogoutTarget[] };
  return r.rows;
}

/**
 * Queues a Logout Token for each member site that holds a session or grant of the account and takes them; call it in
 * the transaction that deletes the account's payloads, before it does. A site that asked for sids gets one token per
 * session it was given (one without a sid when it holds only a grant); any other site one token for the holder, sub
 * alone. Returns how many were queued.
 */
export async function queueBackchannelLogouts(conn: Conn, accountId: string, reason: string): Promise<number> {
  const sids = new Map<string, Set<string | null>>();
  for (const t of await logoutTargets(conn, accountId)) {
    const set = sids.get(t.client_id) ?? new Set<string | null>();
    sids.set(t.client_id, set);
    if (t.sid_required && t.sid) set.add(t.sid);
  }
  const rows = [...sids].flatMap(([clientId, set]) =>
    (set.size ? [...set] : [null]).map((sid) => ({ client_id: clientId, account_id: accountId, sid, reason })),
  );
  if (rows.length) await conn(T).insert(rows);
  return rows.length;
}

/**
 * Claims the next due logout for `leaseSeconds`, in one statement: its next attempt is moved past the lease, so no other
 * sender takes it while this one posts it (SKIP LOCKED: two claiming at once get two different rows), and nothing is
 * held open meanwhile. A sender that dies mid-post leaves it due again when the lease ends.
 */
export async function claimDueLogout(conn: Conn, leaseSeconds: number): Promise<QueuedLogout | undefined> {
  const r = (await conn.raw(
    `UPDATE ${T} SET next_attempt_at = now() + make_interval(secs => ?)
     WHERE id = (SELECT id FROM ${T} WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING id, client_id, account_id, sid, reason, attempts`,
    [leaseSeconds],
  )) as { rows: Record<string, unknown>[] };
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    id: Number(row.id),
    clientId: row.client_id as string,
    accountId: row.account_id as string,
    sid: (row.sid as string | null) ?? null,
    reason: row.reason as string,
    attempts: row.attempts as number,
  };
}

export async function markLogoutSent(conn: Conn, id: number): Promise<void> {
  await conn(T).where({ id }).update({ status: 'sent', sent_at: conn.fn.now(), attempts: conn.raw('attempts + 1'), last_error: null });
}

/**
 * Records a failed attempt: tried again after 30 s, 60 s, 120 s… until `maxAttempts`, then failed. `giveUp` fails it
 * at once (the site is closed, or took its backchannel_logout_uri away).
 */
export async function markLogoutAttemptFailed(conn: Conn, id: number, error: string, maxAttempts: number, giveUp = false): Promise<void> {
  await conn(T)
    .where({ id })
    .update({
      attempts: conn.raw('attempts + 1'),
      last_error: error.slice(0, 500),
      status: giveUp ? 'failed' : conn.raw("CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END", [maxAttempts]),
      next_attempt_at: conn.raw('now() + make_interval(secs => 30 * power(2, attempts))'),
    });
}

/**
 * Queues again a logout the provider posted itself and the site did not take (RP-initiated logout posts once): as if
 * this outbox had made that first attempt, so it is tried again after the first backoff.
 */
export async function queueFailedLogout(conn: Conn, l: { clientId: string; accountId: string; sid: string | null; reason: string; error: string }): Promise<void> {
  await conn(T).insert({
    client_id: l.clientId,
    account_id: l.accountId,
    sid: l.sid,
    reason: l.reason,
    attempts: 1,
    last_error: l.error.slice(0, 500),
    next_attempt_at: conn.raw("now() + interval '30 seconds'"),
  });
}
