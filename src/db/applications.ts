import type { Conn } from './knex.ts';
import { dateString } from './rows.ts';

export type ApplicationStatus = 'approved' | 'rejected' | 'review';

export interface Application {
  id: string;
  status: ApplicationStatus;
  /** Machine code: why refused or why in review. */
  reason: string | null;
  /** The operator's words when deciding a reviewed application. */
  decisionNote: string | null;
  legalName: string;
  birthdate: string;
  email: string;
  mobile: string;
  guardianAccountId: string | null;
  accountId: string | null;
  cardId: string | null;
  ip: string;
  requestId: string | null;
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
}

export type NewApplication = Omit<Application, 'createdAt' | 'decidedAt'> & { decided: boolean };

type Row = Record<string, unknown>;

function toApplication(r: Row): Application {
  return {
    id: r.id as string,
    status: r.status as ApplicationStatus,
    reason: (r.reason as string | null) ?? null,
    decisionNote: (r.decision_note as string | null) ?? null,
    legalName: r.legal_name as string,
    birthdate: dateString(r.birthdate),
    email: r.email as string,
    mobile: r.mobile as string,
    guardianAccountId: (r.guardian_account_id as string | null) ?? null,
    accountId: (r.account_id as string | null) ?? null,
    cardId: (r.card_id as string | null) ?? null,
    ip: r.ip as string,
    requestId: (r.request_id as string | null) ?? null,
    createdAt: new Date(r.created_at as string),
    decidedAt: r.decided_at ? new Date(r.decided_at as string) : null,
    decidedBy: (r.decided_by as string | null) ?? null,
  };
}

export async function insertApplication(conn: Conn, a: NewApplication): Promise<void> {
  await conn('applications').insert({
    id: a.id,
    status: a.status,
    reason: a.reason,
    decision_note: a.decisionNote,
    legal_name: a.legalName,
    birthdate: a.birthdate,
    email: a.email,
    mobile: a.mobile,
    guardian_account_id: a.guardianAccountId,
    account_id: a.accountId,
    card_id: a.cardId,
    ip: a.ip,
    request_id: a.requestId,
    decided_at: a.decided ? conn.fn.now() : null,
    decided_by: a.decidedBy,
  });
}

/** Applications (of any outcome) from this IP address in the last 24 hours, by the database clock. */
export async function countRecentFromIp(conn: Conn, ip: string): Promise<number> {
  const r = await conn('applications')
    .where({ ip })
    .andWhereRaw("created_at > now() - interval '24 hours'")
    .count({ n: '*' })
    .first();
  return Number(r?.n ?? 0);
}

/** Applications (of any outcome) for this email address in the last 24 hours. */
export async function countRecentForEmail(conn: Conn, email: string): Promise<number> {
  const r = await conn('applications')
    .where({ email })
    .andWhereRaw("created_at > now() - interval '24 hours'")
    .count({ n: '*' })
    .first();
  return Number(r?.n ?? 0);
}

/**
 * Whether the email (case-insensitive) and the mobile are already on an account with an open
 * (pending, active or suspended) card, ignoring one account (a minor's guardian may share them).
 */
export async function contactsInUse(
  conn: Conn,
  c: { email: string; mobile: string; exceptAccountId?: string | undefined },
): Promise<{ email: boolean; mobile: boolean }> {
  const open = (q: Conn) =>
    q('accounts as a')
      .select('a.id')
      .whereExists((s) => s.select(conn.raw('1')).from('cards as c').whereRaw('c.account_id = a.id').whereIn('c.status', ['pending', 'active', 'suspended']))
      .modify((s) => {
        if (c.exceptAccountId) s.whereNot('a.id', c.exceptAccountId);
      })
      .first();
  const email = await open(conn).whereRaw('lower(a.email) = ?', [c.email]);
  const mobile = await open(conn).where('a.mobile', c.mobile);
  return { email: Boolean(email), mobile: Boolean(mobile) };
}

export async function findApplication(conn: Conn, id: string): Promise<Application | undefined> {
  const r = (await conn('applications').where({ id }).first()) as Row | undefined;
  return r ? toApplication(r) : undefined;
}

/** The application, row-locked until the transaction ends: a decision is taken once. */
export async function lockApplication(conn: Conn, id: string): Promise<Application | undefined> {
  const r = (await conn('applications').where({ id }).forUpdate().first()) as Row | undefined;
  return r ? toApplication(r) : undefined;
}

/** Applications in this status, at most `limit`: the review queue oldest first, anything else newest first. */
export async function listApplications(
  conn: Conn,
  q: { status?: ApplicationStatus | undefined; limit?: number },
): Promise<Application[]> {
  const order = q.status === 'review' ? 'asc' : 'desc';
  const query = conn('applications').orderBy('created_at', order).orderBy('id', order).limit(q.limit ?? 100);
  if (q.status) query.where({ status: q.status });
  return ((await query) as Row[]).map(toApplication);
}

/** Records the operator's decision on an application that is in review. */
export async function decideApplication(
  conn: Conn,
  id: string,
  d: { status: 'approved' | 'rejected'; reason: string | null; note: string | null; decidedBy: string },
): Promise<void> {
  await conn('applications')
    .where({ id, status: 'review' })
    .update({ status: d.status, reason: d.reason, decision_note: d.note, decided_by: d.decidedBy, decided_at: conn.fn.now() });
}
