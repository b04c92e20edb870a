import type { Context } from 'koa';
import Keygrip from 'keygrip';
import { randomToken } from '../lib/ids.ts';

const COOKIE = 'cc.device';
const MAX_AGE_MS = 400 * 24 * 3600 * 1000; // the longest lifetime browsers honour (RFC 6265bis)

/**
 * This browser's device id: a random value in a long-lived signed, HttpOnly cookie, set on first sight.
 * Tables keep only a keyed hash of it. A browser that drops cookies gets a new id each time, so the
 * per-device throttle is a complement to the per-IP one, never a replacement.
 */
export function deviceId(ctx: Context): string {
  const existing = ctx.cookies.get(COOKIE, { signed: true });
  if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) {
    if (signedByOlderKey(ctx, existing)) setDeviceCookie(ctx, existing);
    return existing;
  }
  const id = randomToken(24);
  setDeviceCookie(ctx, id);
  return id;
}

function setDeviceCookie(ctx: Context, id: string): void {
  ctx.cookies.set(COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: MAX_AGE_MS, overwrite: true });
}

/**
 * Verified by a COOKIE_KEYS entry after the first (the keys were rotated): the cookies module then signs it again
 * under the first key, but with none of its options, so the new signature lasts the browser session only, and once
 * the browser closes the holder's device is a new one (a "new device" notice at the next login). Set whole again.
 */
function signedByOlderKey(ctx: Context, value: string): boolean {
  const keys = ctx.app.keys;
  if (!keys || (Array.isArray(keys) && keys.length < 2)) return false;
  const signature = ctx.cookies.get(`${COOKIE}.sig`, { signed: false });
  return !!signature && (Array.isArray(keys) ? new Keygrip(keys) : keys).index(`${COOKIE}=${value}`, signature) > 0;
}

/** Where a guessable attempt comes from, for the throttles: client address, device id, request id. */
export function attemptSource(ctx: Context): { ip: string; deviceId: string; requestId: string | undefined } {
  return { ip: ctx.ip, deviceId: deviceId(ctx), requestId: ctx.state.requestId as string | undefined };
}
