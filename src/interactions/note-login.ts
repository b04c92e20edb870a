import type { Context } from 'koa';
import type { CardDeps } from '../cards/deps.ts';
import { noteDevice } from '../cards/note-device.ts';
import { hmacSha256 } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';

const COOKIE = 'cc.device';
const MAX_AGE_MS = 400 * 24 * 3600 * 1000; // the longest lifetime browsers honour (RFC 6265bis)

/**
 * After a successful hosted login: identifies this browser by a long-lived signed cookie holding a
 * random id (set on first sight), and lets the cards domain notice a device new to the account.
 * Only a keyed hash of the id is stored, so the table alone cannot be replayed as cookies.
 */
export async function noteLogin(ctx: Context, cards: CardDeps, accountId: string, siteName: string): Promise<void> {
  let deviceId = ctx.cookies.get(COOKIE, { signed: true });
  if (!deviceId || !/^[A-Za-z0-9_-]{32}$/.test(deviceId)) {
    deviceId = randomToken(24);
    ctx.cookies.set(COOKIE, deviceId, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      maxAge: MAX_AGE_MS,
      overwrite: true,
    });
  }
  await noteDevice(cards.db, { accountId, deviceHash: hmacSha256(cards.cardHmacKey, `device:${deviceId}`), siteName });
}
