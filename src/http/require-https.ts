import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';

/** Reached over plain http on purpose: load balancers' health checks and Prometheus go to each instance directly. */
const PLAIN_HTTP_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Under an https issuer every other request must have come over TLS, which an instance behind a load balancer learns
 * from X-Forwarded-Proto (read only with trustProxy). Without it the provider's Secure cookies cannot be set (a bare
 * 500 at the first login) and ours would go out without Secure: refused with a clear 400 instead, and logged with
 * what the operator must fix. No-op for an http issuer (development, tests).
 */
export function requireHttps(issuer: string) {
  const https = new URL(issuer).protocol === 'https:';
  return async function refusePlainHttp(ctx: Context, next: Next): Promise<void> {
    if (!https || ctx.secure || PLAIN_HTTP_PATHS.has(ctx.path)) return next();
    ctx.state.log?.warn(
      { forwardedProto: ctx.get('X-Forwarded-Proto') || null, trustProxy: ctx.app.proxy, hint: 'the load balancer must send X-Forwarded-Proto: https, and trustProxy (TRUST_PROXY) be on' },
      'request over http while the issuer is https',
    );
    throw new AppError('https_required', 'This card manager answers over https only.', { status: 400, expose: true });
  };
}
