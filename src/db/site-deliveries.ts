import type { Conn } from './knex.ts';
import type { SiteOutbox } from './outbox-leases.ts';

/**
 * The operator's view of the posts to member sites (db/outbox-leases.ts: backchannel_logouts, approval_events), both
 * outboxes read as one list. Only what says how a delivery went: never a token, a holder's account, a session id nor
 * an event's payload.
 */
export type DeliveryKind = 'logout' | 'event';

/** The outbox table of each kind. */
export const DELIVERY_TABLES: Readonly<Record<DeliveryKind, SiteOutbox>> = { logout: 'backchannel_logouts', event: 'approval_events' };

/**
 * What the operator asks for: failing (given up, or tried and not delivered yet), given_up, pending (not delivered
 * yet, tried or not), delivered, or all.
 */
export type DeliveryState = 'failing' | 'given_up' | 'pending' | 'delivered' | 'all';

export interface Delivery {
  kind: DeliveryKind;
  id: number;
  clientId: string;
  /** The event's URI, or null for a Logout Token. */
  event: string | null;
  /** The event's jti (the same at every attempt: sites drop repeats by it); null for a Logout Token. */
  jti: string | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  nextAttemptAt: Date;
  sentAt: Date | null;
}

export interface DeliveryFilter {
  kind?: DeliveryKind | undefined;
  clientId?: string | undefined;
  state: DeliveryState;
  limit: number;
  offset?: number;
}

const STATE_SQL: Record<DeliveryState, string> = {
  failing: "(status = 'failed' OR (status = 'pending' AND attempts > 0))",
  given_up: "status = 'failed'",
  pending: "status = 'pending'",
  delivered: "status = 'sent'",
  all: 'true',
};

/** One outbox's rows as the list's columns, filtered; `?` bindings in order: the client id (when filtered). */
function outboxSelect(kind: DeliveryKind, f: DeliveryFilter): { sql: string; bindings: string[] } {
  // A Logout Token has no event URI nor kept jti (each attempt's token is new): NULL in both columns.
  const event = kind === 'event' ? 'event, jti::text AS jti' : 'NULL::text AS event, NULL::text AS jti';
  const site = f.clientId === undefined ? '' : ' AND client_id = ?';
  return {
    sql: `SELECT '${kind}' AS kind, id, client_id, ${event}, status, attempts, last_error, created_at, next_attempt_at, sent_at
          FROM ${DELIVERY_TABLES[kind]} WHERE ${STATE_SQL[f.state]}${site}`,
    bindings: f.clientId === undefined ? [] : [f.clientId],
  };
}

function deliveryFromRow(r: Record<string, unknown>): Delivery {
  return {
    kind: r.kind as DeliveryKind,
    id: Number(r.id),
    clientId: r.client_id as string,
    event: (r.event as string | null) ?? null,
    jti: (r.jti as string | null) ?? null,
    status: r.status as Delivery['status'],
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: new Date(r.created_at as string),
    nextAttemptAt: new Date(r.next_attempt_at as string),
    sentAt: r.sent_at ? new Date(r.sent_at as string) : null,
  };
}

/** Deliveries of both kinds (or one), newest first, a page of `limit` from `offset`. */
export async function listDeliveries(conn: Conn, f: DeliveryFilter): Promise<Delivery[]> {
  const kinds: DeliveryKind[] = f.kind ? [f.kind] : ['logout', 'event'];
  const parts = kinds.map((k) => outboxSelect(k, f));
  const r = (await conn.raw(`${parts.map((p) => p.sql).join(' UNION ALL ')} ORDER BY created_at DESC, kind, id DESC LIMIT ? OFFSET ?`, [
    ...parts.flatMap((p) => p.bindings),
    f.limit,
    f.offset ?? 0,
  ])) as { rows: Record<string, unknown>[] };
  return r.rows.map(deliveryFromRow);
}

/** One delivery by its kind and id, locked for a change when in a transaction that asks (`forUpdate`). */
export async function findDelivery(conn: Conn, kind: DeliveryKind, id: number, forUpdate = false): Promise<Delivery | undefined> {
  const q = conn(DELIVERY_TABLES[kind])
    .where({ id })
    .first(
      conn.raw('? AS kind', [kind]),
      'id',
      'client_id',
      kind === 'event' ? 'event' : conn.raw('NULL AS event'),
      kind === 'event' ? conn.raw('jti::text AS jti') : conn.raw('NULL AS jti'),
      'status',
      'attempts',
      'last_error',
      'created_at',
      'next_attempt_at',
      'sent_at',
    );
  const row = (await (forUpdate ? q.forUpdate() : q)) as Record<string, unknown> | undefined;
  return row ? deliveryFromRow(row) : undefined;
}

/** A given-up delivery due again now, its attempts reset (its jti and last error kept). */
export async function requeueDelivery(conn: Conn, kind: DeliveryKind, id: number): Promise<void> {
  await conn(DELIVERY_TABLES[kind]).where({ id, status: 'failed' }).update({ status: 'pending', attempts: 0, next_attempt_at: conn.fn.now() });
}

/** Per member site and kind, how many deliveries made in the last `days` days are pending, delivered, given up. */
export interface DeliveryCounts {
  clientId: string;
  kind: DeliveryKind;
  pending: number;
  delivered: number;
  givenUp: number;
}

export async function countDeliveries(conn: Conn, days: number, clientId?: string): Promise<DeliveryCounts[]> {
  const part = (kind: DeliveryKind) =>
    `SELECT client_id, '${kind}' AS kind,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'sent')::int AS delivered,
            count(*) FILTER (WHERE status = 'failed')::int AS given_up
     FROM ${DELIVERY_TABLES[kind]}
     WHERE created_at > now() - make_interval(days => ?)${clientId === undefined ? '' : ' AND client_id = ?'}
     GROUP BY client_id`;
  const b = clientId === undefined ? [days] : [days, clientId];
  const r = (await conn.raw(`${part('logout')} UNION ALL ${part('event')} ORDER BY client_id, kind`, [...b, ...b])) as { rows: Record<string, unknown>[] };
  return r.rows.map((x) => ({ clientId: x.client_id as string, kind: x.kind as DeliveryKind, pending: x.pending as number, delivered: x.delivered as number, givenUp: x.given_up as number }));
}
