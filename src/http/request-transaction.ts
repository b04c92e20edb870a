import type { Context, Next } from 'koa';
import { currentRequestScope, openRequestScope, type RequestScope } from '../db/request-scope.ts';

function isServerError(err: unknown): boolean {
  const e = (err ?? {}) as { status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  return status >= 500;
}

/**
 * Settles the scope after the handler answered. If the commit fails, nothing the answer says happened did:
 * its cookies and redirect go (a rotated session cookie would sign the holder out of a session that was
 * never replaced), and the error is answered instead.
 */
async function settleAnswered(ctx: Context, scope: RequestScope): Promise<void> {
  try {
    await scope.settle(ctx.status < 500);
  } catch (err) {
    ctx.remove('Set-Cookie');
    ctx.remove('Location');
    throw err;
  }
}

/**
 * Runs the rest of the chain as one database transaction (see db/request-scope.ts) and commits it, unless
 * the request ended in a server error (thrown, or a 5xx status), which rolls it back. A client error (4xx)
 * still commits: a refused login's audit entry must stay. `skip` leaves a request unscoped.
 */
export function requestTransaction(skip: (ctx: Context) => boolean = () => false) {
  return async function inRequestTransaction(ctx: Context, next: Next): Promise<void> {
    if (skip(ctx)) return next();
    const scope = openRequestScope();
    try {
      await scope.run(next);
    } catch (err) {
      await scope.settle(!isServerError(err));
      throw err;
    }
    await settleAnswered(ctx, scope);
  };
}

/**
 * Settles the current request's transaction before this response is written. For a handler that writes
 * the response itself (oidc-provider answers on the raw request): mount it outermost there.
 */
export async function settleBeforeResponse(ctx: Context, next: Next): Promise<void> {
  const scope = currentRequestScope();
  if (!scope) return next();
  try {
    await next();
  } catch (err) {
    await scope.settle(!isServerError(err));
    throw err;
  }
  await settleAnswered(ctx, scope);
}
