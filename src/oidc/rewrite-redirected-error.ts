import type { Context } from 'koa';

/**
 * An error the provider sent to a site by redirect, in the query or the fragment, given other words: `explain` sees
 * the parameters and changes them in place when they are the error it explains (true), and the Location is written
 * again with them. A Location that is no absolute URL (none of the provider's redirects to a site) is left alone.
 */
export function rewriteRedirectedError(ctx: Context, explain: (params: URLSearchParams) => boolean): void {
  const location = ctx.response.get('location');
  if (!location || ctx.status < 300 || ctx.status >= 400) return;
  const url = URL.parse(location);
  if (!url) return;
  if (explain(url.searchParams)) {
    ctx.set('location', url.href);
    return;
  }
  const fragment = new URLSearchParams(url.hash.slice(1));
  if (explain(fragment)) {
    url.hash = fragment.toString();
    ctx.set('location', url.href);
  }
}
