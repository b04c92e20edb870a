import Router from '@koa/router';
import { AppError } from '../errors.ts';
import { safeEqual } from '../lib/hmac.ts';

/** What the endpoint serves: a metrics registry's text exposition (prom-client's Registry is one). */
export interface Exposition {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export class MetricsAuthError extends AppError {
  constructor() {
    super('unauthorized', 'The metrics endpoint needs a valid bearer token.', { status: 401 });
  }
}

/**
 * GET /metrics: this instance's metrics in Prometheus' text format, for `Authorization: Bearer <METRICS_TOKEN>`
 * (compared in constant time; the header is never logged). Mounted only when a token is configured.
 */
export function metricsRoutes({ exposition, token }: { exposition: Exposition; token: string }): Router {
  const router = new Router();
  router.get('/metrics', async function serveMetrics(ctx) {
    // The scheme is case-insensitive and may be followed by several spaces (RFC 7235 §2.1).
    const m = /^bearer +(.+)$/i.exec(ctx.get('authorization'));
    if (!m || !safeEqual(m[1]!, token)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cybercard-metrics"');
      throw new MetricsAuthError();
    }
    const body = await exposition.metrics();
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Type', exposition.contentType);
    ctx.body = body;
  });
  return router;
}
