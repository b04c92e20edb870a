import { challenge, errorBody, TokenError } from './errors.ts';
import type { Requirement } from './requirements.ts';
import type { ResourceServer } from './resource-server.ts';

/** The parts of a Koa context the middleware uses (the kit does not depend on Koa itself). */
export interface KoaLikeContext {
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  state: Record<string, unknown> & { accessToken?: unknown };
}

/**
 * Koa middleware: refuses the request with an RFC 6750 response unless it carries a valid token
 * meeting every requirement; the verified claims are in `ctx.state.accessToken`. A TokenError
 * thrown further down (e.g. a requirement that depends on the item) gets the same response.
 */
export function koaBearer<C extends KoaLikeContext>(rs: ResourceServer, ...requirements: Array<Requirement<C>>) {
  return async function cybercardBearer(ctx: C, next: () => Promise<unknown>): Promise<void> {
    try {
      ctx.state.accessToken = await rs.authenticate(ctx.get('authorization') || undefined, ctx, requirements);
      await next();
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      ctx.status = err.status;
      if (err.status === 401 || err.status === 403 || err.status === 400) ctx.set('WWW-Authenticate', challenge(err, rs.realm));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = errorBody(err);
    }
  };
}
