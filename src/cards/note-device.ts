import { findAccount, type Account } from '../db/cards.ts';
import type { Db, Trx } from '../db/knex.ts';
import { rememberDevice } from '../db/known-devices.ts';
import { hmacSha256 } from '../lib/hmac.ts';
import { joinRequestTransaction } from '../db/request-scope.ts';
import { localTime } from '../lib/local-time.ts';
import { notify, recipientOf } from '../notifications/notify.ts';

/**
 * The keyed hash known_devices keeps of a device cookie's random id (http/device-cookie.ts): the table alone cannot be
 * replayed as cookies.
 */
export function hashDeviceId(cardHmacKey: Buffer, deviceId: string): Buffer {
  return hmacSha256(cardHmacKey, `device:${deviceId}`);
}

export interface DeviceLogin {
  accountId: string;
  /** Keyed hash of the device cookie's random id. */
  deviceHash: Buffer;
  /** The member site the holder logged in to. */
  siteName: string;
  /**
   * Where to read the holder's contact details (and language) from, if the caller reads the account anyway (a hosted
   * login reads it once for its checks): absent, the account row is read here.
   */
  contact?: ((trx: Trx) => Promise<Pick<Account, 'id' | 'email' | 'mobile' | 'locale'> | undefined>) | undefined;
  /** The time zone the notice tells the time of the login in (config billing.timeZone), as every notice does. */
  timeZone: string;
}

/**
 * Remembers the device the holder logged in from; a device new to the account tells the holder, in the
 * same transaction (the request's own, when there is one: nothing recovers from a failure here).
 */
export async function noteDevice(db: Db, login: DeviceLogin): Promise<boolean> {
  return joinRequestTransaction(db, async (trx) => {
    const isNew = await rememberDevice(trx, login.accountId, login.deviceHash);
    if (!isNew) return false;
    const account = login.contact ? await login.contact(trx) : await findAccount(trx, login.accountId);
    if (account) {
      await notify(trx, recipientOf(account), 'new_device_login', {
        site: login.siteName,
        at: localTime(new Date(), login.timeZone),
      });
    }
    return true;
  });
}
