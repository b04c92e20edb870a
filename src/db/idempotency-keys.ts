import type { Conn } from './knex.ts';
import { jsonValue } from './rows.ts';

export interface StoredAnswer {
  requestHash: string;
  status: number | null;
  response: unknown;
}

/** Whose key it is: a member site's (the member-site API) or an operator's (the operator API); each has its own namespace. */
export type IdempotencyOwner = { clientId: string } | { actor: string };

/** The table and the owner's column of `owner`'s keys. */
function keysOf(conn: Conn, owner: IdempotencyOwner) {
  return 'clientId' in owner
    ? { table: () => conn('idempotency_keys'), owner: { client_id: owner.clientId }, column: 'client_id' }
    : { table: () => conn('operator_idempotency_keys'), owner: { actor: owner.actor }, column: 'actor' };
}

/**
 * Claims an idempotency key inside the caller's transaction. Returns true when this transaction now
 * owns it; false when it was already recorded (a concurrent claim waits on the unique index until
 * the other transaction ends, then sees its committed row or, after a rollback, claims it itself).
 */
export async function claimIdempotencyKey(conn: Conn, k: IdempotencyOwner & { key: string; requestHash: string }): Promise<boolean> {
  const t = keysOf(conn, k);
  const rows = (await t
    .table()
    .insert({ ...t.owner, key: k.key, request_hash: k.requestHash })
    .onConflict([t.column, 'key'])
    .ignore()
    .returning('id')) as unknown[];
  return rows.length === 1;
}

/** The recorded request and answer for a key, if any. */
export async function findIdempotencyKey(conn: Conn, k: IdempotencyOwner & { key: string }): Promise<StoredAnswer | undefined> {
  const t = keysOf(conn, k);
  const r = (await t.table().select('request_hash', 'status', 'response').where({ ...t.owner, key: k.key }).first()) as Record<string, unknown> | undefined;
  if (!r) return undefined;
  return {
    requestHash: r.request_hash as string,
    status: r.status === null ? null : Number(r.status),
    response: r.response === null ? null : jsonValue<unknown>(r.response),
  };
}

/** Records the answer given under a claimed key (same transaction as the claim and the effect). */
export async function recordIdempotentAnswer(conn: Conn, k: IdempotencyOwner & { key: string }, answer: { status: number; body: unknown }): Promise<void> {
  const t = keysOf(conn, k);
  await t
    .table()
    .where({ ...t.owner, key: k.key })
    .update({ status: answer.status, response: JSON.stringify(answer.body) });
}
