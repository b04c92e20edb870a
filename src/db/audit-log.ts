import type { Conn } from './knex.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: Record<string, unknown>;
  requestId?: string | undefined;
}

/** Appends one audit entry; call it inside the transaction that makes the change it records. */
export async function appendAudit(conn: Conn, e: AuditEntry): Promise<void> {
  await conn('audit_log').insert({
    actor: e.actor,
    action: e.action,
    subject_type: e.subjectType,
    subject_id: e.subjectId,
    details: JSON.stringify(e.details ?? {}),
    request_id: e.requestId ?? null,
  });
}

export async function listAudit(
  conn: Conn,
  subjectType: string,
  subjectId: string,
): Promise<Array<AuditEntry & { at: Date }>> {
  const rows = (await conn('audit_log')
    .where({ subject_type: subjectType, subject_id: subjectId })
    .orderBy('id')) as Record<string, unknown>[];
  return rows.map((r) => ({
    at: new Date(r.at as string),
    actor: r.actor as string,
    action: r.action as string,
    subjectType: r.subject_type as string,
    subjectId: r.subject_id as string,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
  }));
}
