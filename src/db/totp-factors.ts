import type { Conn } from './knex.ts';

export interface TotpFactor {
  accountId: string;
  secretSealed: Buffer | null;
  confirmedAt: Date | null;
  pendingSealed: Buffer | null;
  enrolTokenHash: Buffer | null;
  enrolExpiresAt: Date | null;
  lastStep: number;
}

function toFactor(r: Record<string, unknown>): TotpFactor {
  const buf = (v: unknown) => (v ? Buffer.from(v as Buffer) : null);
  return {
    accountId: r.account_id as string,
    secretSealed: buf(r.secret_sealed),
    confirmedAt: r.confirmed_at ? new Date(r.confirmed_at as string) : null,
    pendingSealed: buf(r.pending_sealed),
    enrolTokenHash: buf(r.enrol_token_hash),
    enrolExpiresAt: r.enrol_expires_at ? new Date(r.enrol_expires_at as string) : null,
    lastStep: Number(r.last_step),
  };
}

export async function findTotpFactor(conn: Conn, accountId: string): Promise<TotpFactor | undefined> {
  const r = (await conn('totp_factors').where({ account_id: accountId }).first()) as Record<string, unknown> | undefined;
  return r ? toFactor(r) : undefined;
}

/** Starts (or restarts) an enrolment; a confirmed secret keeps working until the new one is confirmed. */
export async function savePendingTotp(
  conn: Conn,
  accountId: string,
  p: { pendingSealed: Buffer; enrolTokenHash: Buffer; ttlSeconds: number },
): Promise<void> {
  const expires = conn.raw('now() + make_interval(secs => ?::float8)', [p.ttlSeconds]);
  await conn('totp_factors')
    .insert({ account_id: accountId, pending_sealed: p.pendingSealed, enrol_token_hash: p.enrolTokenHash, enrol_expires_at: expires })
    .onConflict('account_id')
    .merge({ pending_sealed: p.pendingSealed, enrol_token_hash: p.enrolTokenHash, enrol_expires_at: expires, updated_at: conn.fn.now() });
}

/**
 * Makes the pending secret the confirmed one, provided the enrolment token still matches and has not
 * expired, and records the confirming code's step as used. False when it no longer applies.
 */
export async function confirmPendingTotp(conn: Conn, accountId: string, enrolTokenHash: Buffer, step: number): Promise<boolean> {
  const n = await conn('totp_factors')
    .where({ account_id: accountId, enrol_token_hash: enrolTokenHash })
    .andWhere('enrol_expires_at', '>', conn.fn.now())
    .whereNotNull('pending_sealed')
    .update({
      secret_sealed: conn.ref('pending_sealed'),
      confirmed_at: conn.fn.now(),
      pending_sealed: null,
      enrol_token_hash: null,
      enrol_expires_at: null,
      last_step: step,
      updated_at: conn.fn.now(),
    });
  return n === 1;
}

/** RFC 6238 §5.2: marks `step` used unless it (or a later one) already was. False for a replayed code. */
export async function useTotpStep(conn: Conn, accountId: string, step: number): Promise<boolean> {
  const n = await conn('totp_factors')
    .where({ account_id: accountId })
    .whereNotNull('secret_sealed')
    .andWhere('last_step', '<', step)
    .update({ last_step: step, updated_at: conn.fn.now() });
  return n === 1;
}

/** Removes the account's second factor, confirmed or pending. True when there was one. */
export async function deleteTotpFactor(conn: Conn, accountId: string): Promise<boolean> {
  return (await conn('totp_factors').where({ account_id: accountId }).del()) > 0;
}
