import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import type { RequestRecorder } from '../metrics/http-requests.ts';

/** Where noteProviderRoute leaves oidc-provider's route name: on the raw request, which its context shares with ours. */
const PROVIDER_ROUTE = Symbol('cybercard.providerRoute');
type NodeRequest = IncomingMessage & { [PROVIDER_ROUTE]?: string };

/**
 * For oidc-provider (provider.use): keeps the name of the route it matched (token, authorization,
 * pushed_authorization_request, resume …) for countRequests. The provider runs on a context of its own,
 * so the name is left on the raw request, which both share.
 */
export async function noteProviderRoute(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } finally {
    const name = (ctx as { _matchedRouteName?: unknown })._matchedRouteName;
    if (typeof name === 'string') (ctx.req as NodeRequest)[PROVIDER_ROUTE] = name;
  }
}

/**
 * The route label, never the raw path (which holds interaction uids and client ids): the template of the
 * @koa/router route that answered (`/interaction/:uid/login`), else the name of oidc-provider's, else
 * `unmatched`. Our route wins over the provider's: an interaction's last post is answered by the
 * provider's resume in the same request (resume-at-once.ts), and counted as the post it was.
 */
function routeOf(ctx: Context): string {
  const template = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  // A router's prefix middleware (router.use(path, …): a body it could not parse) matches as a pattern: its prefix.
  if (typeof template === 'string') return template.replace(/\(\?:\\\/\|\$\)$/, '/*');
  return (ctx.req as NodeRequest)[PROVIDER_ROUTE] ?? 'unmatched';
}

/** Counts and times every request (outermost, so the time is the whole answer's and the status the final one). */
export function countRequests(recorder: RequestRecorder) {
  return async function countRequest(ctx: Context, next: Next): Promise<void> {
    // As the request came: the resume that answers an interaction's post turns it into a GET.
    const method = ctx.method;
    const started = performance.now();
    let status = 500; // what Koa answers an error that escaped every handler with
    try {
      await next();
      status = ctx.status;
    } finally {
      recorder.record(method, routeOf(ctx), status, (performance.now() - started) / 1000);
    }
  };
}
