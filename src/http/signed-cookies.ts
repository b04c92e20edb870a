import type Koa from 'koa';
import type { Context } from 'koa';
import Keygrip from 'keygrip';

type Cookies = Context['cookies'];
/** The options a cookie is set with (the cookies module's). */
export type CookieOptions = NonNullable<Parameters<Cookies['set']>[2]>;

/** Which COOKIE_KEYS entry signed `name=value` (0 the first), -1 when none does or the cookie has no signature. */
function signingKeyIndex(cookies: Cookies, keys: Koa['keys'], name: string, value: string): number {
  const signature = cookies.get(`${name}.sig`, { signed: false });
  if (!signature || !keys || (Array.isArray(keys) && keys.length === 0)) return -1;
  return (Array.isArray(keys) ? new Keygrip(keys) : keys).index(`${name}=${value}`, signature);
}

/**
 * The cookies of this app's requests verify a signature by any COOKIE_KEYS entry without signing it again. The cookies
 * module, reading a cookie an older key signed (the keys were rotated), sets its signature again under the first key
 * with none of the cookie's options: no Max-Age (it then ends with the browser session), no SameSite, no Secure, and
 * path `/` (for a cookie of another path, such as oidc-provider's `_interaction` at `/interaction/<uid>`, a second
 * signature beside the old one, which the browser sends first). Only the cookie's owner knows its options: ours sign
 * theirs again whole (signedCookie below); oidc-provider sets its session cookie again on each visit, and its
 * interaction cookies, which end within the interaction's minutes, keep the old key's signature until then.
 * Installed on the context Koa makes each request's from (app.context), for our app and the provider's alike.
 */
export function verifyCookiesWithoutResigning(app: Koa): void {
  const koaCookies = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(app.context) as object, 'cookies');
  if (!koaCookies?.get || !koaCookies.set) throw new Error("Koa's context has no cookies accessor to wrap");
  const wrapped = new WeakSet<Cookies>();
  Object.defineProperty(app.context, 'cookies', {
    configurable: true,
    get(this: Context): Cookies {
      const cookies = koaCookies.get!.call(this) as Cookies;
      if (!wrapped.has(cookies)) {
        const get = cookies.get.bind(cookies);
        const keys = this.app.keys;
        cookies.get = (name: string, opts?: Parameters<Cookies['get']>[1]) => {
          if (!opts?.signed) return get(name, opts);
          const value = get(name, { signed: false });
          // Verified by an older key: answered as it is, its signature left as it was set.
          if (value !== undefined && signingKeyIndex(cookies, keys, name, value) > 0) return value;
          return get(name, opts);
        };
        wrapped.add(cookies);
      }
      return cookies;
    },
    set(this: Context, cookies: Cookies): void {
      koaCookies.set!.call(this, cookies);
    },
  });
}

/**
 * The signed cookie `name`'s value (undefined when it has none, or no key verifies it). One an older COOKIE_KEYS entry
 * signed is set again whole under the first key, with `options`, the ones it is set with: it then outlives the old
 * key's removal, and keeps its end, path and SameSite.
 */
export function signedCookie(ctx: Context, name: string, options: CookieOptions): string | undefined {
  const value = ctx.cookies.get(name, { signed: true });
  if (value !== undefined && signingKeyIndex(ctx.cookies, ctx.app.keys, name, value) > 0) {
    ctx.cookies.set(name, value, { ...options, signed: true, overwrite: true });
  }
  return value;
}
