import type { Conn } from './knex.ts';

/**
 * Remembers that the account logged in from this device. True when the device was not known
 * before, false when it was (its last_seen_at is refreshed).
 */
export async function rememberDevice(conn: Conn, accountId: string, deviceHash: Buffer): Promise<boolean> {
  const inserted = await conn('known_devices')
    .insert({ account_id: accountId, device_hash: deviceHash })
    .onConflict(['account_id', 'device_hash'])
    .ignore()
    .returning('account_id');
  if (inserted.length > 0) return true;
  await conn('known_devices').where({ account_id: accountId, device_hash: deviceHash }).update({ last_seen_at: conn.fn.now() });
  return false;
}

/** Whether the account has logged in from this device (rememberDevice). */
export async function isKnownDevice(conn: Conn, accountId: string, deviceHash: Buffer): Promise<boolean> {
  const row = (await conn('known_devices').where({ account_id: accountId, device_hash: deviceHash }).first('account_id')) as unknown;
  return row !== undefined;
}
