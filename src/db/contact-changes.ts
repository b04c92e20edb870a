import type { Conn } from './knex.ts';

/** A holder's pending change of email and/or mobile (migrations/…_contact_changes.ts). */
export interface ContactChange {
  id: string;
  accountId: string;
  cardId: string;
  newEmail: string | null;
  newMobile: string | null;
  emailCodeHash: Buffer | null;
  mobileCodeHash: Buffer | null;
  /** Where the code proving the change went: the contact the holder keeps. */
  proofChannel: 'email' | 'sms';
  proofCodeHash: Buffer;
  expiresAt: Date;
  attempts: number;
  consumedAt: Date | null;
}

type Row = Record<string, unknown>;

function toChange(r: Row): ContactChange {
  return {
    id: r.id as string,
    accountId: r.account_id as string,
    cardId: r.card_id as string,
    newEmail: (r.new_email as string | null) ?? null,
    newMobile: (r.new_mobile as string | null) ?? null,
    emailCodeHash: (r.email_code_hash as Buffer | null) ?? null,
    mobileCodeHash: (r.mobile_code_hash as Buffer | null) ?? null,
    proofChannel: r.proof_channel as 'email' | 'sms',
    proofCodeHash: r.proof_code_hash as Buffer,
    expiresAt: new Date(r.expires_at as string),
    attempts: Number(r.attempts),
    consumedAt: r.consumed_at ? new Date(r.consumed_at as string) : null,
  };
}

/** Retires every open change of the account (a newer request, or the operator's correction, replaces it). */
export async function retireContactChanges(conn: Conn, accountId: string): Promise<void> {
  await conn('contact_changes').where({ account_id: accountId }).whereNull('consumed_at').update({ consumed_at: conn.fn.now() });
}

/** Stores a new pending change valid for `ttlSeconds`, retiring any earlier open one of the account. */
export async function insertContactChange(
  conn: Conn,
  c: Omit<ContactChange, 'expiresAt' | 'attempts' | 'consumedAt'> & { ttlSeconds: number },
): Promise<void> {
  await retireContactChanges(conn, c.accountId);
  await conn('contact_changes').insert({
    id: c.id,
    account_id: c.accountId,
    card_id: c.cardId,
    new_email: c.newEmail,
    new_mobile: c.newMobile,
    email_code_hash: c.emailCodeHash,
    mobile_code_hash: c.mobileCodeHash,
    proof_channel: c.proofChannel,
    proof_code_hash: c.proofCodeHash,
    expires_at: conn.raw('now() + make_interval(secs => ?)', [c.ttlSeconds]),
  });
}

/**
 * How many changes the account asked for in the last `seconds`, and in how many seconds (by the database
 * clock) the oldest of them leaves that window.
 */
export async function countRecentContactChanges(conn: Conn, accountId: string, seconds: number): Promise<{ count: number; oldestLeavesIn: number }> {
  // Requests refused because the address was another holder's count too (their audit entries): each one tells whether
  // an address is a cardholder's, so they may not be asked without bound.
  const r = (
    await conn.raw(
      `SELECT count(*) AS n, ceil(extract(epoch FROM (min(at) + make_interval(secs => ?) - now()))) AS wait FROM (
         SELECT created_at AS at FROM contact_changes WHERE account_id = ? AND created_at > now() - make_interval(secs => ?)
         UNION ALL
         SELECT at FROM audit_log WHERE subject_type = 'account' AND subject_id = ?::text AND action = 'account.contacts_change_refused'
           AND details->>'reason' = 'in use' AND at > now() - make_interval(secs => ?)
       ) recent`,
      [seconds, accountId, seconds, accountId, seconds],
    )
  ).rows[0] as { n: string | number; wait: string | number | null };
  return { count: Number(r.n), oldestLeavesIn: Math.max(1, Number(r.wait ?? 1)) };
}

/** The account's open (unconsumed) change, if any, with `expired` telling whether its time is up. */
export async function findOpenContactChange(conn: Conn, accountId: string): Promise<(ContactChange & { expired: boolean }) | undefined> {
  const r = (await conn('contact_changes')
    .select('*', conn.raw('expires_at <= now() AS expired'))
    .where({ account_id: accountId })
    .whereNull('consumed_at')
    .orderBy('created_at', 'desc')
    .first()) as Row | undefined;
  return r ? { ...toChange(r), expired: Boolean(r.expired) } : undefined;
}

/** The change, row-locked, with `expired` telling whether its time is up. */
export async function lockContactChange(conn: Conn, id: string): Promise<(ContactChange & { expired: boolean }) | undefined> {
  const r = (await conn('contact_changes').select('*', conn.raw('expires_at <= now() AS expired')).where({ id }).forUpdate().first()) as
    | Row
    | undefined;
  return r ? { ...toChange(r), expired: Boolean(r.expired) } : undefined;
}

export async function recordContactChangeAttempt(conn: Conn, id: string): Promise<void> {
  await conn('contact_changes').where({ id }).update({ attempts: conn.raw('attempts + 1') });
}

export async function consumeContactChange(conn: Conn, id: string): Promise<void> {
  await conn('contact_changes').where({ id }).update({ consumed_at: conn.fn.now(), attempts: conn.raw('attempts + 1') });
}
