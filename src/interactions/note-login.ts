import type { Context } from 'koa';
import type { CardDeps } from '../cards/deps.ts';
import { hashDeviceId, noteDevice } from '../cards/note-device.ts';
import { deviceId } from '../http/device-cookie.ts';
import { accountFacts } from '../oidc/account-facts.ts';

/**
 * After a successful hosted login: lets the cards domain notice a device new to the account, by a keyed
 * hash of this browser's device cookie (so the table alone cannot be replayed as cookies).
 */
export async function noteLogin(ctx: Context, cards: CardDeps, login: { accountId: string; siteName: string; timeZone: string }): Promise<void> {
  const { accountId, siteName, timeZone } = login;
  await noteDevice(cards.db, {
    accountId,
    timeZone,
    deviceHash: hashDeviceId(cards.cardHmacKey, deviceId(ctx)),
    siteName,
    // The login's checks read the account next (remembered for the request): one read serves both. On
    // the transaction it runs in: the embedded database has one connection, and that transaction holds it.
    contact: async (trx) => (await accountFacts(trx, accountId))?.account,
  });
}
