import type { Knex } from 'knex';
import { appendAudit } from './audit-log.ts';
import type { Conn, Db } from './knex.ts';

export interface OperatorSessionRow {
  actor: string;
  tokenHash: string;
  createdAt: Date;
}

export async function insertOperatorSession(conn: Conn, s: { idHash: Buffer; actor: string; tokenHash: string; idleSeconds: number }): Promise<void> {
  await conn('operator_sessions').insert({
    id_hash: s.idHash,
    actor: s.actor,
    token_hash: s.tokenHash,
    expires_at: conn.raw('now() + make_interval(secs => ?::float8)', [s.idleSeconds]),
  });
}

/**
 * The live session with this id hash, its idle deadline moved on to `idleSeconds` from now, in one statement:
 * undefined once it sat idle past its deadline or began more than `maxSeconds` ago.
 */
export async function touchOperatorSession(
  conn: Conn,
  idHash: Buffer,
  lifetime: { idleSeconds: number; maxSeconds: number },
): Promise<OperatorSessionRow | undefined> {
  const [r] = (await conn('operator_sessions')
    .where('id_hash', idHash)
    .andWhere('expires_at', '>', conn.fn.now())
    .andWhere('created_at', '>', conn.raw('now() - make_interval(secs => ?::float8)', [lifetime.maxSeconds]))
    .update({ expires_at: conn.raw('now() + make_interval(secs => ?::float8)', [lifetime.idleSeconds]) })
    .returning(['actor', 'token_hash', 'created_at'])) as Array<Record<string, unknown>>;
  return r ? { actor: r.actor as string, tokenHash: r.token_hash as string, createdAt: new Date(r.created_at as string) } : undefined;
}

/** Deletes the session with this id hash; answers the actor it was for, or undefined when there was none. */
export async function deleteOperatorSession(conn: Conn, idHash: Buffer): Promise<string | undefined> {
  const [r] = (await conn('operator_sessions').where({ id_hash: idHash }).delete().returning(['actor'])) as Array<{ actor: string }>;
  return r?.actor;
}

/** Why a console session ended without a sign-out. */
export type OperatorSessionEnd = 'idle' | 'max_age' | 'token_removed';

/** Who noticed a session's end: the request that found it (its client address and id), or none (the cleanup). */
export interface NoticedBy {
  ip: string;
  requestId: string | undefined;
}

/**
 * Deletes the sessions `narrow` picks and audits each (`operator.session_ended`, with `reason(row)`) in one
 * transaction: deleted and returned at once, a session is audited once, whoever notices it first. The entry names the
 * operator and when the session began, never its id nor the id's hash.
 */
async function endOperatorSessions(
  db: Db,
  narrow: (q: Knex.QueryBuilder) => void,
  reason: (row: Record<string, unknown>) => OperatorSessionEnd,
  by: NoticedBy | undefined,
  maxSeconds: number,
): Promise<number> {
  return db.transaction(async (trx) => {
    const rows = (await trx('operator_sessions')
      .where(narrow)
      .delete()
      .returning(['actor', 'created_at', trx.raw('created_at <= now() - make_interval(secs => ?::float8) AS past_max', [maxSeconds])])) as Array<
      Record<string, unknown>
    >;
    await appendAudit(
      trx,
      rows.map((r) => ({
        actor: 'system',
        action: 'operator.session_ended',
        subjectType: 'operator',
        subjectId: r.actor as string,
        details: { via: 'console', reason: reason(r), signedInAt: new Date(r.created_at as string).toISOString(), ...(by ? { ip: by.ip } : {}) },
        requestId: by?.requestId,
      })),
    );
    return rows.length;
  });
}

/** Sessions past their idle deadline, and those older than `maxSeconds` whatever their deadline. */
function expired(conn: Conn, maxSeconds: number) {
  return (q: Knex.QueryBuilder) =>
    q.where('expires_at', '<=', conn.fn.now()).orWhere('created_at', '<=', conn.raw('now() - make_interval(secs => ?::float8)', [maxSeconds]));
}
const idleOrOld = (r: Record<string, unknown>): OperatorSessionEnd => (r.past_max ? 'max_age' : 'idle');

/**
 * Ends, audited, the expired sessions: the one with `found.idHash`, which a request found past its end, or every one
 * (the periodic cleanup). Answers how many ended.
 */
export async function endExpiredOperatorSessions(db: Db, maxSeconds: number, found?: NoticedBy & { idHash: Buffer }): Promise<number> {
  const which = expired(db, maxSeconds);
  return endOperatorSessions(db, (q) => (found ? q.where('id_hash', found.idHash).andWhere(which) : which(q)), idleOrOld, found, maxSeconds);
}

/** Ends, audited (`token_removed`), the session with this id hash, whose operator token is no longer configured. */
export async function endSessionOfRemovedToken(db: Db, idHash: Buffer, by: NoticedBy, maxSeconds: number): Promise<number> {
  return endOperatorSessions(db, (q) => q.where('id_hash', idHash), () => 'token_removed', by, maxSeconds);
}
