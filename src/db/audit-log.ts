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
 * Appends one audit entry, or several in one statement (in the order given); call it inside the
 * transaction that makes the change it records.
 */
export async function appendAudit(conn: Conn, e: AuditEntry | readonly AuditEntry[]): Promise<void> {
  const entries = Array.isArray(e) ? e : [e as AuditEntry];
  if (entries.length === 0) return;
  await conn('audit_log').insert(auditRecords(entries).map((r) => ({ ...r, details: JSON.stringify(r.details) })));
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
