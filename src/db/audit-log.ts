import type { Knex } from 'knex';
import type { Conn } from './knex.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: Record<string, unknown>;
  requestId?: string | undefined;
}

/**
 * Entries per INSERT: each binds one value per column, and PostgreSQL takes at most 65,535 bound values in a statement
 * (the periodic cleanup may end ten thousand sessions at once, each audited).
 */
const ENTRIES_PER_INSERT = 1000;

/**
 * Appends one audit entry, or several (in the order given, a statement per ENTRIES_PER_INSERT); call it inside the
 * transaction that makes the change it records.
 */
export async function appendAudit(conn: Conn, e: AuditEntry | readonly AuditEntry[]): Promise<void> {
  const entries = Array.isArray(e) ? e : [e as AuditEntry];
  for (let i = 0; i < entries.length; i += ENTRIES_PER_INSERT) {
    const rows = auditRecords(entries.slice(i, i + ENTRIES_PER_INSERT));
    await conn('audit_log').insert(rows.map((r) => ({ ...r, details: JSON.stringify(r.details) })));
  }
}

/**
 * Audit entries as audit_log rows, details as an object, not yet JSON text (appendAudit, and
 * insertIssuedApplication, which sends them as one JSON array).
 */
export function auditRecords(entries: readonly AuditEntry[]): Array<Record<string, unknown>> {
  return entries.map((x) => ({
    actor: x.actor,
    action: x.action,
    subject_type: x.subjectType,
    subject_id: x.subjectId,
    details: x.details ?? {},
    request_id: x.requestId ?? null,
  }));
}

function toEntry(r: Record<string, unknown>): AuditEntry & { at: Date } {
  return {
    at: new Date(r.at as string),
    actor: r.actor as string,
    action: r.action as string,
    subjectType: r.subject_type as string,
    subjectId: r.subject_id as string,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
    ...(r.request_id ? { requestId: r.request_id as string } : {}),
  };
}

export async function listAudit(
  conn: Conn,
  subjectType: string,
  subjectId: string,
): Promise<Array<AuditEntry & { at: Date }>> {
  const rows = (await conn('audit_log')
    .where({ subject_type: subjectType, subject_id: subjectId })
    .orderBy('id')) as Record<string, unknown>[];
  return rows.map(toEntry);
}

/** The latest `limit` entries about any of these subjects (e.g. an account and all its cards), oldest first. */
export async function listAuditForSubjects(
  conn: Conn,
  subjects: Array<{ type: string; id: string }>,
  limit = 500,
): Promise<Array<AuditEntry & { at: Date }>> {
  if (subjects.length === 0) return [];
  const rows = (await conn('audit_log')
    .where((q) => {
      for (const s of subjects) q.orWhere({ subject_type: s.type, subject_id: s.id });
    })
    .orderBy('id', 'desc')
    .limit(limit)) as Record<string, unknown>[];
  return rows.reverse().map(toEntry);
}

/** An entry of a holder's activity: an audit entry with its row id (the page's cursor) and the card it concerns. */
export interface ActivityRow {
  id: number;
  at: Date;
  action: string;
  subjectType: string;
  details: Record<string, unknown>;
  /** The card the entry is about: the subject card, or the card an approval was made with; null for the account. */
  cardId: string | null;
}

/**
 * One page of what happened to an account, its cards and its approvals, newest first: at most `limit` entries
 * whose action is one of `actions`, all older than entry `before` when it is given. Each subject is its own
 * branch reading (subject_type, subject_id, id) backwards and stopping at `limit`, so a long history is never
 * read and sorted whole; an approval's entries are found through the account's approvals.
 */
export async function listAccountActivity(
  conn: Conn,
  q: { accountId: string; cardIds: readonly string[]; actions: readonly string[]; before?: number | undefined; limit: number },
): Promise<ActivityRow[]> {
  const page = (b: Knex.QueryBuilder, prefix = ''): Knex.QueryBuilder => {
    b.whereIn(`${prefix}action`, q.actions);
    if (q.before !== undefined) b.where(`${prefix}id`, '<', q.before);
    return b.orderBy(`${prefix}id`, 'desc').limit(q.limit);
  };
  const columns = ['id', 'at', 'action', 'subject_type', 'details'];
  const branches = [
    page(conn('audit_log').select(...columns, conn.raw('NULL::text AS card_id')).where({ subject_type: 'account', subject_id: q.accountId })),
    ...q.cardIds.map((id) => page(conn('audit_log').select(...columns, 'subject_id as card_id').where({ subject_type: 'card', subject_id: id }))),
    page(
      conn('audit_log as a')
        .joinRaw('JOIN approvals p ON a.subject_id = p.id::text')
        .select(...columns.map((c) => `a.${c}`), conn.raw('p.card_id::text AS card_id'))
        .where({ 'a.subject_type': 'approval', 'p.account_id': q.accountId }),
      'a.',
    ),
  ];
  const rows = (await conn
    .select('*')
    .from(conn.raw(`(${branches.map(() => '?').join(' UNION ALL ')}) AS activity`, branches))
    .orderBy('id', 'desc')
    .limit(q.limit)) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at as string),
    action: r.action as string,
    subjectType: r.subject_type as string,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
    cardId: (r.card_id as string | null) ?? null,
  }));
}

/**
 * How many `action` entries the card has since its entry `sinceAction` that came before `signedInAt` (the
 * sign-in before the current one), or, with no such entry, in the last `days` days; and which of the two it is.
 * One statement (the holder's account page runs it on every visit), reading only the card's entries of these
 * two actions (migrations/20261206100002_audit_log_card_checks.ts).
 */
export async function countCardEntriesSince(
  conn: Conn,
  q: { cardId: string; action: CardCheckAction; sinceAction: CardCheckAction; signedInAt: Date; days: number },
): Promise<{ count: number; sincePrevious: boolean }> {
  const { rows } = (await conn.raw(
    `WITH prev AS (
       SELECT max(id) AS id FROM audit_log
        WHERE subject_type = 'card' AND subject_id = ? AND action = ? AND at < ?
     )
     SELECT count(*)::int AS n, (SELECT id FROM prev) IS NOT NULL AS since_previous
       FROM audit_log
      WHERE subject_type = 'card' AND subject_id = ? AND action = ?
        AND id > coalesce((SELECT id FROM prev), 0)
        AND ((SELECT id FROM prev) IS NOT NULL OR at > now() - make_interval(days => ?))`,
    [q.cardId, q.sinceAction, q.signedInAt, q.cardId, q.action, q.days],
  )) as { rows: Array<{ n: number; since_previous: boolean }> };
  return { count: Number(rows[0]?.n ?? 0), sincePrevious: rows[0]?.since_previous === true };
}

/** The card actions audit_log_card_checks_index covers: what countCardEntriesSince may count and count from. */
export type CardCheckAction = 'holder.signed_in' | 'card.password_failed';
