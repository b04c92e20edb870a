import type { Conn } from './knex.ts';

export interface HolderSessionRow {
  accountId: string;
  cardId: string;
  createdAt: Date;
  expiresAt: Date;
}

export async function insertHolderSession(conn: Conn, s: { idHash: Buffer; accountId: string; cardId: string; ttlSeconds: number }): Promise<void> {
  await conn('holder_sessions').insert({
    id_hash: s.idHash,
    account_id: s.accountId,
    card_id: s.cardId,
    expires_at: conn.raw('now() + make_interval(secs => ?::float8)', [s.ttlSeconds]),
  });
}

/** The live session with this id hash, while it has not expired and its card is still active. */
export async function findLiveHolderSession(conn: Conn, idHash: Buffer): Promise<HolderSessionRow | undefined> {
  const r = (await conn('holder_sessions as s')
    .join('cards as c', 'c.id', 's.card_id')
    .where('s.id_hash', idHash)
    .andWhere('s.expires_at', '>', conn.fn.now())
    .andWhere('c.status', 'active')
    .select('s.account_id', 's.card_id', 's.created_at', 's.expires_at')
    .first()) as Record<string, unknown> | undefined;
  return r
    ? {
        accountId: r.account_id as string,
        cardId: r.card_id as string,
        createdAt: new Date(r.created_at as string),
        expiresAt: new Date(r.expires_at as string),
      }
    : undefined;
}

export async function deleteHolderSession(conn: Conn, idHash: Buffer): Promise<void> {
  await conn('holder_sessions').where({ id_hash: idHash }).delete();
}

/** Ends every holder session of the account (a password reset: whoever knew the old one is signed out). */
export async function deleteHolderSessionsOfAccount(conn: Conn, accountId: string): Promise<void> {
  await conn('holder_sessions').where({ account_id: accountId }).delete();
}

export async function deleteExpiredHolderSessions(conn: Conn): Promise<number> {
  return conn('holder_sessions').where('expires_at', '<', conn.fn.now()).delete();
}
