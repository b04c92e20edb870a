import type { Knex } from 'knex';
import { AppError } from '../errors.ts';
import type { Conn } from './knex.ts';

/** A stored oidc-provider payload. */
export type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

const T = 'oidc_payloads';

function notExpired(conn: Conn) {
  return conn.raw('(expires_at IS NULL OR expires_at > now())');
}

/** Inserts or replaces one payload; `expiresIn` seconds from now, or never when absent. */
export async function upsertPayload(
  conn: Conn,
  model: string,
  id: string,
  payload: Payload,
  expiresIn: number | undefined,
): Promise<void> {
  await conn(T)
    .insert({
      model,
      id,
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      user_code: payload.userCode ?? null,
      uid: payload.uid ?? null,
      expires_at: expiresIn ? conn.raw("now() + make_interval(secs => ?)", [expiresIn]) : null,
      consumed_at: null,
    })
    .onConflict(['model', 'id'])
    // Never consumed_at: a payload saved again stays consumed.
    .merge(['payload', 'grant_id', 'user_code', 'uid', 'expires_at'])
    .options(prepared(expiresIn ? 'upsert-expiring' : 'upsert'));
}

/**
 * Every request reads and writes these rows, always with the same SQL text per shape: each connection
 * prepares them once under a name (PostgreSQL otherwise plans each one again, which costs more than
 * running it). Named statements list their columns, so a migration never changes their result type.
 */
const prepared = (name: string) => ({ name: `oidc-payloads-${name}` });

function toPayload(row: { payload: unknown; consumed_at: unknown }): Payload {
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Payload;
  if (row.consumed_at) payload.consumed = Math.floor(new Date(row.consumed_at as string).getTime() / 1000);
  return payload;
}

async function findWhere(conn: Conn, where: Record<string, string>): Promise<Payload | undefined> {
  const row = await conn(T)
    .select('payload', 'consumed_at')
    .where(where)
    .andWhere(notExpired(conn))
    .first()
    .options(prepared(`find-by-${Object.keys(where).join('-')}`));
  return row ? toPayload(row as { payload: unknown; consumed_at: unknown }) : undefined;
}

/** A payload named by a field of another (at `path` in it), by its id or its uid. */
export interface RelatedPayload {
  model: string;
  by: 'id' | 'uid';
  path: readonly string[];
}

/** The key a related payload is found by, from the payload that names it; undefined when it names none. */
export function relatedKey(payload: Payload, r: RelatedPayload): string | undefined {
  let v: unknown = payload;
  for (const k of r.path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The unexpired payload with this id (as findPayload) and, in the same statement, the unexpired payloads
 * its fields name (`related`: each one found, or undefined). For the rows a request goes on to read: an
 * authorization code's grant and session at /token.
 */
export async function findPayloadWithRelated(
  conn: Conn,
  model: string,
  id: string,
  related: readonly RelatedPayload[],
): Promise<{ payload: Payload | undefined; related: Array<Payload | undefined> }> {
  const live = (alias: string) => `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`;
  const branches = related.map(
    (r, i) =>
      `SELECT ${i + 1} AS n, p.payload, p.consumed_at FROM m JOIN ${T} p ON p.model = ? AND p.${r.by} = m.payload #>> ?::text[] AND ${live('p')}`,
  );
  const r = await conn
    .raw(
      `WITH m AS (SELECT payload, consumed_at FROM ${T} m WHERE m.model = ? AND m.id = ? AND ${live('m')})
       SELECT 0 AS n, payload, consumed_at FROM m${branches.map((b) => `\n       UNION ALL ${b}`).join('')}`,
      [model, id, ...related.flatMap((rp) => [rp.model, [...rp.path]])],
    )
    .options(prepared(`find-with-related-${model}`));
  const rows = (r as { rows: Array<{ n: number; payload: unknown; consumed_at: unknown }> }).rows;
  const found = new Map(rows.map((row) => [Number(row.n), toPayload(row)]));
  return { payload: found.get(0), related: related.map((_, i) => (found.has(0) ? found.get(i + 1) : undefined)) };
}

/** The unexpired payload with this id, with `consumed` set if it was consumed. */
export function findPayload(conn: Conn, model: string, id: string): Promise<Payload | undefined> {
  return findWhere(conn, { model, id });
}

export function findPayloadByUid(conn: Conn, model: string, uid: string): Promise<Payload | undefined> {
  return findWhere(conn, { model, uid });
}

export function findPayloadByUserCode(conn: Conn, model: string, userCode: string): Promise<Payload | undefined> {
  return findWhere(conn, { model, user_code: userCode });
}

/** The new consumed_at of a row a write consumes: now, or SQLSTATE CC409 if another request consumed it first. */
const CONSUME_ONCE = 'CASE WHEN consumed_at IS NULL THEN now() ELSE cybercard_consumed_twice() END';

/** A second consumption of one payload: two requests raced with one code, refresh token or pushed request. */
export class ConsumedTwiceError extends AppError {
  constructor() {
    super('invalid_grant', 'This code or token was already used.', { status: 400 });
  }
}

function consumedTwice(err: unknown): never {
  throw (err as { code?: unknown } | null)?.code === 'CC409' ? new ConsumedTwiceError() : err;
}

/**
 * Marks a payload consumed (authorization codes, refresh tokens on rotation), once: ConsumedTwiceError if another
 * request consumed it first, or deleted it (a replay revokes the grant, the code with it).
 */
export async function consumePayload(conn: Conn, model: string, id: string): Promise<void> {
  const r = await conn
    .raw(`UPDATE ${T} SET consumed_at = ${CONSUME_ONCE} WHERE model = ? AND id = ? RETURNING 1`, [model, id])
    .options(prepared('consume'))
    .catch(consumedTwice);
  if (!(r as { rows?: unknown[] }).rows?.length) throw new ConsumedTwiceError();
}

export async function destroyPayload(conn: Conn, model: string, id: string): Promise<void> {
  await conn(T).where({ model, id }).del().options(prepared('destroy'));
}

/** One write of a request's payload writes (writePayloads). Keys (model, id) are distinct across a batch. */
export type PayloadWrite =
  | { kind: 'upsert'; model: string; id: string; payload: Payload; expiresIn: number | undefined; consumed: boolean }
  | { kind: 'consume'; model: string; id: string }
  | { kind: 'destroy'; model: string; id: string };

/**
 * Several payload writes in one statement (data-modifying CTEs): deletes, consumptions, and upserts as
 * upsertPayload makes them (an upsert may arrive consumed). Each (model, id) must appear once: PostgreSQL
 * cannot change one row twice in a statement.
 */
export async function writePayloads(conn: Conn, writes: readonly PayloadWrite[]): Promise<void> {
  if (!writes.length) return;
  const keys = (kind: PayloadWrite['kind']) => writes.filter((w) => w.kind === kind).map((w) => [w.model, w.id]);
  const parts: string[] = [];
  const bindings: Knex.RawBinding[] = [];
  const keyList = (ks: string[][]) => {
    bindings.push(...ks.flat());
    return ks.map(() => '(?, ?)').join(', ');
  };
  const deleted = keys('destroy');
  if (deleted.length) parts.push(`d AS (DELETE FROM ${T} WHERE (model, id) IN (${keyList(deleted)}) RETURNING 1)`);
  const consumed = keys('consume');
  if (consumed.length) {
    parts.push(`c AS (UPDATE ${T} SET consumed_at = ${CONSUME_ONCE} WHERE (model, id) IN (${keyList(consumed)}) RETURNING 1)`);
    // A row to consume that is gone (a replay from another request revoked the grant, the code with it) fails the
    // statement too: `short` raises, and the main statement refers to it, so it is evaluated.
    parts.push(`cc AS (SELECT CASE WHEN count(*) < ${consumed.length} THEN cybercard_consumed_twice() END AS short FROM c)`);
  }
  const upserts = writes.filter((w): w is Extract<PayloadWrite, { kind: 'upsert' }> => w.kind === 'upsert');
  const withClause = parts.length ? `WITH ${parts.join(', ')} ` : '';
  if (!upserts.length) {
    await conn.raw(`${withClause}SELECT ${consumed.length ? '(SELECT short FROM cc)' : '1'}`, bindings).catch(consumedTwice);
    return;
  }
  const rows = upserts.map((u) => {
    bindings.push(u.model, u.id, JSON.stringify(u.payload), u.payload.grantId ?? null, u.payload.userCode ?? null, u.payload.uid ?? null);
    bindings.push(u.expiresIn || null, u.consumed);
    return `(?, ?, ?::jsonb, ?, ?, ?, now() + make_interval(secs => ?::double precision), CASE WHEN ?::boolean THEN now() END)`;
  });
  await conn.raw(
    `${withClause}INSERT INTO ${T} (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at) ${
      consumed.length
        ? // Its columns named, not v.*: a statement with a star is never prepared (db/pg-client.ts).
          `SELECT model, id, payload, grant_id, user_code, uid, expires_at, consumed_at
           FROM (VALUES ${rows.join(', ')}) AS v (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
           WHERE (SELECT short FROM cc) IS NULL`
        : `VALUES ${rows.join(', ')}`
    }
     ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, user_code = EXCLUDED.user_code,
       uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at,
       consumed_at = CASE WHEN EXCLUDED.consumed_at IS NULL THEN ${T}.consumed_at WHEN ${T}.consumed_at IS NULL THEN EXCLUDED.consumed_at
                          ELSE cybercard_consumed_twice() END`,
    bindings,
  ).catch(consumedTwice);
}

/**
 * Stores a payload unless one with its key exists (live or not yet swept): true when stored. Another request's
 * row not yet committed is waited for, so of two requests racing with one key exactly one stores it.
 */
export async function insertPayloadOnce(conn: Conn, model: string, id: string, payload: Payload, expiresIn: number | undefined): Promise<boolean> {
  const r = await conn.raw(
    `INSERT INTO ${T} (model, id, payload, grant_id, user_code, uid, expires_at)
     VALUES (?, ?, ?::jsonb, ?, ?, ?, now() + make_interval(secs => ?::double precision))
     ON CONFLICT (model, id) DO NOTHING RETURNING 1`,
    [model, id, JSON.stringify(payload), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresIn || null],
  );
  return Boolean((r as { rows?: unknown[] }).rows?.length);
}

/** Deletes every payload of any model that belongs to a grant. */
export async function revokePayloadsByGrantId(conn: Conn, grantId: string): Promise<number> {
  return conn(T).where({ grant_id: grantId }).del();
}

/** Deletes expired payloads, in batches so a large backlog never holds long locks. */
export async function deleteExpiredPayloads(conn: Conn, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await conn(T)
      .whereIn(
        ['model', 'id'],
        conn(T).select('model', 'id').where('expires_at', '<=', conn.fn.now()).limit(batch),
      )
      .del();
    total += n;
    if (n < batch) return total;
  }
}

/**
 * Deletes every oidc-provider row of a holder account: sessions, grants, codes, access and refresh
 * tokens (by their accountId or their grant), and interactions logged in or being logged in as it.
 * Call it in the transaction that blocks the card. Returns how many rows went.
 */
export async function deleteAccountPayloads(conn: Conn, accountId: string): Promise<number> {
  const grants = conn(T).select('id').where({ model: 'Grant' }).andWhereRaw("payload->>'accountId' = ?", [accountId]);
  const owned = await conn(T)
    .whereRaw("payload->>'accountId' = ?", [accountId])
    .orWhereIn('grant_id', grants)
    .del();
  const interactions = await conn(T)
    .where({ model: 'Interaction' })
    .andWhere((q) =>
      q
        .whereRaw("payload->'session'->>'accountId' = ?", [accountId])
        .orWhereRaw("payload->'result'->'login'->>'accountId' = ?", [accountId]),
    )
    .del();
  return owned + interactions;
}
