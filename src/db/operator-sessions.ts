import type { Conn } from './knex.ts';

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

/** Deletes sessions past their idle deadline, and those older than `maxSeconds` whatever their deadline. */
export async function deleteExpiredOperatorSessions(conn: Conn, maxSeconds: number): Promise<number> {
  return conn('operator_sessions')
    .where('expires_at', '<', conn.fn.now())
    .orWhere('created_at', '<', conn.raw('now() - make_interval(secs => ?::float8)', [maxSeconds]))
    .delete();
}
