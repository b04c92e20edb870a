import type Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { MethodNotAllowedError } from '../errors.ts';

/** The order the Allow header names methods in. */
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * RFC 9110 §15.5.6 for these routers' addresses: a request whose path one of their routes serves, with a method none of
 * them takes, is answered 405 with an Allow header naming the methods that are taken, instead of falling through to the
 * later routers and the provider's 404 (the address exists). Placed right after the routers' routes(): a router that
 * matched path and method answered already, and one that matched neither leaves the request to the rest of the app.
 * Nothing of the routers' own middleware (body parsing, authentication) runs for it; @koa/router's allowedMethods()
 * cannot serve here, since it decides only after the whole chain, whose last step (oidc-provider) writes its own answer.
 */
export function refuseOtherMethods(routers: readonly Router[]): Middleware {
  const ours = new Set<unknown>(routers.flatMap((r) => r.stack));
  return async function refuseOtherMethodsHere(ctx: Context, next: Next) {
    const matched = (ctx as Context & { matched?: Array<{ methods: string[] }> }).matched ?? [];
    const methods = new Set(matched.filter((layer) => ours.has(layer)).flatMap((layer) => layer.methods));
    if (methods.size === 0 || methods.has(ctx.method)) return next();
    throw new MethodNotAllowedError(ctx.method, ORDER.filter((m) => methods.has(m)).join(', '));
  };
}
