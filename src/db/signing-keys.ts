import { DIRECTORY_CHANNEL } from './directory.ts';
import type { Conn } from './knex.ts';
import { jsonValue } from './rows.ts';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  createdAt: Date;
  /** When it starts signing (published before that). */
  activatesAt: Date;
  /** When it stops signing: the next key's activation (published a while after that). */
  retiredAt: Date | null;
}

export interface PublishedKeys {
  rows: SigningKeyRow[];
  /** The database's clock when they were read: every instance judges activation by the same clock. */
  now: Date;
}

function keyRow(r: Record<string, unknown>): SigningKeyRow {
  return {
    kid: r.kid as string,
    alg: r.alg as string,
    privateJwk: jsonValue<Record<string, unknown>>(r.private_jwk),
    createdAt: new Date(r.created_at as string),
    activatesAt: new Date(r.activates_at as string),
    retiredAt: r.retired_at ? new Date(r.retired_at as string) : null,
  };
}

/**
 * Signing keys with the database's clock, latest activation first. With `keepRetiredSeconds`, only those worth
 * publishing: not retired (signing now, or about to) or retired less than that long ago (tokens they signed may still
 * be alive). With `kid`, that key alone.
 */
export async function listKeys(conn: Conn, opts: { keepRetiredSeconds?: number; kid?: string } = {}): Promise<PublishedKeys> {
  const q = conn('signing_keys')
    .select('kid', 'alg', 'private_jwk', 'created_at', 'activates_at', 'retired_at', conn.raw('now() AS db_now'))
    .orderBy([{ column: 'activates_at', order: 'desc' }, { column: 'created_at', order: 'desc' }]);
  const keep = opts.keepRetiredSeconds;
  if (keep !== undefined) q.where((w) => w.whereNull('retired_at').orWhere('retired_at', '>', conn.raw('now() - make_interval(secs => ?)', [keep])));
  if (opts.kid !== undefined) q.where({ kid: opts.kid });
  const rows = (await q) as Record<string, unknown>[];
  const now = rows[0] ? new Date(rows[0].db_now as string) : new Date();
  return { rows: rows.map(keyRow), now };
}

/** Keys not retired: the signing key and any waiting to sign. */
export async function countActiveKeys(conn: Conn): Promise<number> {
  const r = (await conn('signing_keys').whereNull('retired_at').count({ n: '*' }).first()) as { n: string | number };
  return Number(r.n);
}

/** Serialises changes to the keys (rotations, withdrawals) in the caller's transaction; reads go on meanwhile. */
export async function lockKeysForChange(conn: Conn): Promise<void> {
  await conn.raw('LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE');
}

/** Tells every listening instance, once the caller's transaction commits, that the keys changed. */
export async function announceKeyChange(conn: Conn): Promise<void> {
  await conn.raw('SELECT pg_notify(?, ?)', [DIRECTORY_CHANNEL, 'keys']);
}

/** Whether a key signs now (started, not retired). */
export async function anyKeySigningNow(conn: Conn): Promise<boolean> {
  const r = await conn('signing_keys')
    .select('kid')
    .where('activates_at', '<=', conn.raw('clock_timestamp()'))
    .andWhere((q) => q.whereNull('retired_at').orWhere('retired_at', '>', conn.raw('clock_timestamp()')))
    .first();
  return r !== undefined;
}

/**
 * Inserts a key that starts signing `activateInSeconds` from now (the clock when this runs, not when the transaction
 * began: a wait for the lock does not shorten the margin), and retires at that moment every key that would otherwise
 * still sign then (the current one, and one waiting for a later start). Under lockKeysForChange. Returns when it starts.
 */
export async function insertKeyActivatingIn(conn: Conn, kid: string, alg: string, jwk: object, activateInSeconds: number): Promise<Date> {
  const r = (await conn.raw('SELECT clock_timestamp() + make_interval(secs => ?) AS at', [activateInSeconds])) as { rows: Array<{ at: string | Date }> };
  const at = new Date(r.rows[0]!.at);
  await conn('signing_keys')
    .where((q) => q.whereNull('retired_at').orWhere('retired_at', '>', at))
    .update({ retired_at: at });
  await conn('signing_keys').insert({ kid, alg, private_jwk: JSON.stringify(jwk), activates_at: at });
  return at;
}

/** Deletes one key at once, whatever tokens it signed. */
export async function deleteKey(conn: Conn, kid: string): Promise<void> {
  await conn('signing_keys').where({ kid }).del();
}

/** Drops keys retired long enough ago that no token they signed can still be valid. */
export async function deleteExpiredKeys(conn: Conn, keepRetiredSeconds: number): Promise<number> {
  return conn('signing_keys')
    .whereNotNull('retired_at')
    .andWhere('retired_at', '<=', conn.raw('now() - make_interval(secs => ?)', [keepRetiredSeconds]))
    .del();
}
