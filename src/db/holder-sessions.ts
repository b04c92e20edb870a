import { appendAudit } from './audit-log.ts';
import type { Conn, Db } from './knex.ts';

export interface HolderSessionRow {
  accountId: string;
  cardId: string;
  createdAt: Date;
  expiresAt: Date;
  /** Begun with a closed card: the pages that show and settle what is owed, and no other. */
  cardClosed: boolean;
}

export async function insertHolderSession(
  conn: Conn,
  s: { idHash: Buffer; accountId: string; cardId: string; ttlSeconds: number; cardClosed: boolean },
): Promise<void> {
  await conn('holder_sessions').insert({
    id_hash: s.idHash,
    account_id: s.accountId,
    card_id: s.cardId,
    card_closed: s.cardClosed,
    expires_at: conn.raw('now() + make_interval(secs => ?::float8)', [s.ttlSeconds]),
  });
}

/**
 * The live session with this id hash, while it has not expired and its card is as it was when it began: active, or
 * closed for one begun with the closed card. A session begun with an active card opens nothing once the card is not.
 */
export async function findLiveHolderSession(conn: Conn, idHash: Buffer): Promise<HolderSessionRow | undefined> {
  const r = (await conn('holder_sessions as s')
    .join('cards as c', 'c.id', 's.card_id')
    .where('s.id_hash', idHash)
    .andWhere('s.expires_at', '>', conn.fn.now())
    .andWhere((q) => q.where({ 'c.status': 'active', 's.card_closed': false }).orWhere({ 'c.status': 'closed', 's.card_closed': true }))
    .select('s.account_id', 's.card_id', 's.created_at', 's.expires_at', 's.card_closed')
    .first()) as Record<string, unknown> | undefined;
  return r
    ? {
        accountId: r.account_id as string,
        cardId: r.card_id as string,
        createdAt: new Date(r.created_at as string),
        expiresAt: new Date(r.expires_at as string),
        cardClosed: r.card_closed === true,
      }
    : undefined;
}

export async function deleteHolderSession(conn: Conn, idHash: Buffer): Promise<void> {
  await conn('holder_sessions').where({ id_hash: idHash }).delete();
}

/** Lets the session take its copy of the holder's data once, for `seconds` (the password typed again was right). */
export async function markDataReady(conn: Conn, idHash: Buffer, seconds: number): Promise<void> {
  await conn('holder_sessions')
    .where({ id_hash: idHash })
    .update({ data_ready_until: conn.raw('now() + make_interval(secs => ?::float8)', [seconds]), data_taken_at: null });
}

/**
 * The session's copy of the holder's data: `ready` to take now, `taken` (the last one its password made ready was
 * saved, and no other is waiting), or `none` (never asked for, or its minutes passed unsaved).
 */
export async function dataReadyState(conn: Conn, idHash: Buffer): Promise<'ready' | 'taken' | 'none'> {
  const r = (await conn('holder_sessions')
    .where({ id_hash: idHash })
    .first(conn.raw('data_ready_until > now() as ready'), conn.raw('data_taken_at is not null as taken'))) as { ready: boolean | null; taken: boolean } | undefined;
  return r?.ready ? 'ready' : r?.taken ? 'taken' : 'none';
}

/**
 * Takes the session's copy of the holder's data, once: true when it was ready (and no longer is, taken now), in one
 * statement, so two posts at once (a double click, another instance) cannot both take it.
 */
export async function claimDataReady(conn: Conn, idHash: Buffer): Promise<boolean> {
  const rows = (await conn('holder_sessions')
    .where({ id_hash: idHash })
    .andWhere('data_ready_until', '>', conn.fn.now())
    .update({ data_ready_until: null, data_taken_at: conn.fn.now() })
    .returning('id_hash')) as unknown[];
  return rows.length > 0;
}

/** Ends every holder session of the account (a password reset: whoever knew the old one is signed out). */
export async function deleteHolderSessionsOfAccount(conn: Conn, accountId: string): Promise<void> {
  await conn('holder_sessions').where({ account_id: accountId }).delete();
}

/**
 * Ends the expired holder sessions (the one with `idHash`, which a request found past its end; or every one, for the
 * periodic cleanup), each with its audit entry (`holder.session_ended`) in the same transaction: deleted and returned
 * at once, a session is audited once, whoever notices it first. The entry names the card and when the session began,
 * never its id nor the id's hash. Answers how many ended.
 */
export async function endExpiredHolderSessions(db: Db, found?: { idHash: Buffer; requestId: string | undefined }): Promise<number> {
  return db.transaction(async (trx) => {
    const rows = (await trx('holder_sessions')
      .where('expires_at', '<=', trx.fn.now())
      .modify((q) => found && q.andWhere('id_hash', found.idHash))
      .delete()
      .returning(['account_id', 'card_id', 'created_at'])) as Array<Record<string, unknown>>;
    await appendAudit(
      trx,
      rows.map((r) => ({
        actor: 'system',
        action: 'holder.session_ended',
        subjectType: 'card',
        subjectId: r.card_id as string,
        details: { accountId: r.account_id, reason: 'expired', signedInAt: new Date(r.created_at as string).toISOString() },
        requestId: found?.requestId,
      })),
    );
    return rows.length;
  });
}
