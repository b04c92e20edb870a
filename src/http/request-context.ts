import type { Context, Next } from 'koa';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';

/**
 * Gives every request an id (kept from X-Request-Id when it looks sane) and a child logger,
 * and logs one line per request: method, path (never the query string: it may hold codes), status, time.
 */
export function requestContext(log: Logger) {
  return async function requestContextMiddleware(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[A-Za-z0-9._-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    // As the request came: an interaction's last post is answered as the provider's resume, and becomes that.
    const { method, path } = ctx;
    const started = performance.now();
    try {
      await next();
    } finally {
      ctx.state.log.info(
        { method, path, status: ctx.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}
