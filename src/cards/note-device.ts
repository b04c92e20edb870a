import { findAccount } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { rememberDevice } from '../db/known-devices.ts';
import { inTransaction } from '../db/tx.ts';
import { notify } from '../notifications/notify.ts';

export interface DeviceLogin {
  accountId: string;
  /** Keyed hash of the device cookie's random id. */
  deviceHash: Buffer;
  /** The member site the holder logged in to. */
  siteName: string;
}

/** Remembers the device the holder logged in from; a device new to the account tells the holder. */
export async function noteDevice(db: Db, login: DeviceLogin): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const isNew = await rememberDevice(trx, login.accountId, login.deviceHash);
    if (!isNew) return false;
    const account = await findAccount(trx, login.accountId);
    if (account) {
      await notify(trx, { accountId: account.id, email: account.email, mobile: account.mobile }, 'new_device_login', {
        site: login.siteName,
        at: new Date().toISOString(),
      });
    }
    return true;
  });
}
