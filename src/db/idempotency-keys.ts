import type { Conn } from './knex.ts';
import { jsonValue } from './rows.ts';

export interface StoredAnswer {
  requestHash: string;
  status: number | null;
  response: unknown;
}

/**
 * Claims an idempotency key inside the caller's transaction. Returns true when this transaction now
 * owns it; false when it was already recorded (a concurrent claim waits on the unique index until
 * the other transaction ends, then sees its committed row or, after a rollback, claims it itself).
 */
export async function claimIdempotencyKey(conn: Conn, k: { clientId: string; key: string; requestHash: string }): Promise<boolean> {
  const rows = (await conn('idempotency_keys')
    .insert({ client_id: k.clientId, key: k.key, request_hash: k.requestHash })
    .onConflict(['client_id', 'key'])
    .ignore()
    .returning('id')) as unknown[];
  return rows.length === 1;
}

/** The recorded request and answer for a key, if any. */
export async function findIdempotencyKey(conn: Conn, clientId: string, key: string): Promise<StoredAnswer | undefined> {
  const r = (await conn('idempotency_keys').select('request_hash', 'status', 'response').where({ client_id: clientId, key }).first()) as
    | Record<string, unknown>
    | undefined;
  if (!r) return undefined;
  return {
    requestHash: r.request_hash as string,
    status: r.status === null ? null : Number(r.status),
    response: r.response === null ? null : jsonValue<unknown>(r.response),
  };
}

/** Records the answer given under a claimed key (same transaction as the claim and the effect). */
export async function recordIdempotentAnswer(
  conn: Conn,
  k: { clientId: string; key: string },
  answer: { status: number; body: unknown },
): Promise<void> {
  await conn('idempotency_keys')
    .where({ client_id: k.clientId, key: k.key })
    .update({ status: answer.status, response: JSON.stringify(answer.body) });
}
