import type { Context } from 'koa';
import type { CardDeps } from '../cards/deps.ts';
import { noteDevice } from '../cards/note-device.ts';
import { deviceId } from '../http/device-cookie.ts';
import { hmacSha256 } from '../lib/hmac.ts';
import { accountFacts } from '../oidc/account-facts.ts';

/**
 * After a successful hosted login: lets the cards domain notice a device new to the account, by a keyed
 * hash of this browser's device cookie (so the table alone cannot be replayed as cookies).
 */
export async function noteLogin(ctx: Context, cards: CardDeps, accountId: string, siteName: string): Promise<void> {
  await noteDevice(cards.db, {
    accountId,
    deviceHash: hmacSha256(cards.cardHmacKey, `device:${deviceId(ctx)}`),
    siteName,
    // The request's own read of the account, which the login page's look ahead makes too.
    account: async () => (await accountFacts(cards.db, accountId))?.account,
  });
}
