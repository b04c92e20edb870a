import type { Context } from 'koa';
import type { CardDeps } from '../cards/deps.ts';
import { noteDevice } from '../cards/note-device.ts';
import { deviceId } from '../http/device-cookie.ts';
import { hmacSha256 } from '../lib/hmac.ts';

/**
 * After a successful hosted login: lets the cards domain notice a device new to the account, by a keyed
 * hash of this browser's device cookie (so the table alone cannot be replayed as cookies).
 */
export async function noteLogin(ctx: Context, cards: CardDeps, accountId: string, siteName: string): Promise<void> {
  await noteDevice(cards.db, { accountId, deviceHash: hmacSha256(cards.cardHmacKey, `device:${deviceId(ctx)}`), siteName });
}
