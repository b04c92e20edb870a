import type { Conn } from './knex.ts';
import { announceQueued } from './outbox-leases.ts';

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
  if (rows.length) {
    await conn(T).insert(rows);
    await announceQueued(conn, T);
  }
  return rows.length;
}

/** The columns a sender claims a logout with (db/outbox-leases.ts claimDue), and the logout they make. */
export const LOGOUT_COLUMNS = ['id', 'client_id', 'account_id', 'sid', 'reason', 'attempts'] as const;

export function logoutFromRow(row: Record<string, unknown>): QueuedLogout {
  return {
    id: Number(row.id),
    clientId: row.client_id as string,
    accountId: row.account_id as string,
    sid: (row.sid as string | null) ?? null,
    reason: row.reason as string,
    attempts: row.attempts as number,
  };
}

/**
 * Queues one logout, due at once, the outbox to make every attempt: the holder signed out at the card manager
 * (RP-initiated logout, oidc/queue-logouts-at-sign-out.ts). Returns its id.
 */
export async function queueLogout(conn: Conn, l: { clientId: string; accountId: string; sid: string | null; reason: string }): Promise<number> {
  const [row] = (await conn(T).insert({ client_id: l.clientId, account_id: l.accountId, sid: l.sid, reason: l.reason }).returning('id')) as { id: number }[];
  return Number(row!.id);
}
