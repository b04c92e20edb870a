import type { Conn } from './knex.ts';
import { jsonValue } from './rows.ts';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  createdAt: Date;
  retiredAt: Date | null;
}

/**
 * Keys still worth publishing: the active ones and those retired less than `keepRetiredSeconds`
 * ago (tokens they signed may still be alive). Newest first: oidc-provider signs with the first.
 */
export async function listPublishedKeys(conn: Conn, keepRetiredSeconds: number): Promise<SigningKeyRow[]> {
  const rows = (await conn('signing_keys')
    .whereNull('retired_at')
    .orWhere('retired_at', '>', conn.raw('now() - make_interval(secs => ?)', [keepRetiredSeconds]))
    .orderBy([{ column: 'retired_at', order: 'desc', nulls: 'first' }, { column: 'created_at', order: 'desc' }])) as Record<
    string,
    unknown
  >[];
  return rows.map((r) => ({
    kid: r.kid as string,
    alg: r.alg as string,
    privateJwk: jsonValue<Record<string, unknown>>(r.private_jwk),
    createdAt: new Date(r.created_at as string),
    retiredAt: r.retired_at ? new Date(r.retired_at as string) : null,
  }));
}

export async function countActiveKeys(conn: Conn): Promise<number> {
  const r = (await conn('signing_keys').whereNull('retired_at').count({ n: '*' }).first()) as { n: string | number };
  return Number(r.n);
}

/** Retires every active key and inserts the new one, in the caller's transaction. */
export async function insertKeyRetiringOthers(conn: Conn, kid: string, alg: string, jwk: object): Promise<void> {
  await conn('signing_keys').whereNull('retired_at').update({ retired_at: conn.fn.now() });
  await conn('signing_keys').insert({ kid, alg, private_jwk: JSON.stringify(jwk) });
}

/** Drops keys retired long enough ago that no token they signed can still be valid. */
export async function deleteExpiredKeys(conn: Conn, keepRetiredSeconds: number): Promise<number> {
  return conn('signing_keys')
    .whereNotNull('retired_at')
    .andWhere('retired_at', '<=', conn.raw('now() - make_interval(secs => ?)', [keepRetiredSeconds]))
    .del();
}
