import type { Conn } from './knex.ts';

export type CodePurpose = 'lost_card' | 'reissue' | 'password_reset';

export interface OneTimeCode {
  id: string;
  accountId: string;
  cardId: string;
  purpose: CodePurpose;
  codeHash: Buffer;
  expiresAt: Date;
  attempts: number;
  consumedAt: Date | null;
  /** The keyed hash of the device it was asked from, when the account knew that device: only it may use the code. */
  deviceHash: Buffer | null;
}

type Row = Record<string, unknown>;

function toCode(r: Row): OneTimeCode {
  return {
    id: r.id as string,
    accountId: r.account_id as string,
    cardId: r.card_id as string,
    purpose: r.purpose as CodePurpose,
    codeHash: r.code_hash as Buffer,
    expiresAt: new Date(r.expires_at as string),
    attempts: Number(r.attempts),
    consumedAt: r.consumed_at ? new Date(r.consumed_at as string) : null,
    deviceHash: (r.device_hash as Buffer | null) ?? null,
  };
}

/**
 * Stores a new code valid for `ttlSeconds`, retiring earlier open codes for the same card and purpose: every one when
 * it is asked from a device the account knows (`deviceHash`), else only those no known device asked for, so that
 * whoever has only the number cannot replace the code the holder asked for from their own browser.
 */
export async function insertCode(
  conn: Conn,
  c: { id: string; accountId: string; cardId: string; purpose: CodePurpose; codeHash: Buffer; ttlSeconds: number; deviceHash?: Buffer | undefined },
): Promise<void> {
  const open = conn('one_time_codes').where({ card_id: c.cardId, purpose: c.purpose }).whereNull('consumed_at');
  if (!c.deviceHash) open.whereNull('device_hash');
  await open.update({ consumed_at: conn.fn.now() });
  await conn('one_time_codes').insert({
    id: c.id,
    account_id: c.accountId,
    card_id: c.cardId,
    purpose: c.purpose,
    code_hash: c.codeHash,
    device_hash: c.deviceHash ?? null,
    expires_at: conn.raw('now() + make_interval(secs => ?)', [c.ttlSeconds]),
  });
}

/** Retires every open code of the account's cards (sent to contacts it no longer has). */
export async function retireAccountCodes(conn: Conn, accountId: string): Promise<void> {
  await conn('one_time_codes').where({ account_id: accountId }).whereNull('consumed_at').update({ consumed_at: conn.fn.now() });
}

/** How many codes were issued for this card and purpose in the last `seconds`. */
export async function countRecentCodes(conn: Conn, cardId: string, purpose: CodePurpose, seconds: number): Promise<number> {
  const r = (await conn('one_time_codes')
    .where({ card_id: cardId, purpose })
    .andWhere('created_at', '>', conn.raw('now() - make_interval(secs => ?)', [seconds]))
    .count({ n: '*' })
    .first()) as { n: string | number };
  return Number(r.n);
}

/**
 * The code a guess from this device is checked against, row-locked, with `expired` telling whether its time is up: the
 * live code asked from this very device when there is one (`deviceHash`, a known device's), else the newest code no
 * known device asked for. A code a known device asked for is never another device's to guess at, nor to use up.
 */
export async function lockLatestCode(
  conn: Conn,
  cardId: string,
  purpose: CodePurpose,
  deviceHash?: Buffer | undefined,
): Promise<(OneTimeCode & { expired: boolean }) | undefined> {
  const q = conn('one_time_codes')
    .select('*', conn.raw('expires_at <= now() AS expired'))
    .where({ card_id: cardId, purpose })
    .andWhere((w) => {
      w.whereNull('device_hash');
      if (deviceHash) w.orWhere((own) => own.where({ device_hash: deviceHash }).whereNull('consumed_at').andWhere('expires_at', '>', conn.fn.now()));
    })
    .orderByRaw('(device_hash IS NOT NULL) DESC, created_at DESC')
    .forUpdate();
  const r = (await q.first()) as Row | undefined;
  return r ? { ...toCode(r), expired: Boolean(r.expired) } : undefined;
}

export async function recordCodeAttempt(conn: Conn, id: string): Promise<void> {
  await conn('one_time_codes').where({ id }).update({ attempts: conn.raw('attempts + 1') });
}

export async function consumeCode(conn: Conn, id: string): Promise<void> {
  await conn('one_time_codes').where({ id }).update({ consumed_at: conn.fn.now(), attempts: conn.raw('attempts + 1') });
}
