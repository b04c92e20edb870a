import type { Context, Next } from 'koa';
import { isNulRefused } from '../db/pg-errors.ts';
import { AppError, MethodNotAllowedError } from '../errors.ts';
import type { Renderer } from './render.ts';

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  type?: string;
}

const HEADINGS: Record<number, string> = {
  400: 'We could not read that request',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Page not found',
  405: 'Not allowed',
  409: 'Conflict',
  413: 'Too much data',
  415: 'Unsupported content',
  429: 'Too many attempts',
  503: 'Busy',
};

/** What a request that found no free database connection in time is told. */
export const BUSY = 'The card manager is busy. Please try again in a moment.';

/** oidc-provider's back-channel endpoints: member sites and resource servers call them, never a browser. */
const BACK_CHANNEL = /^\/(?:request|token(?:\/introspection|\/revocation)?|reg(?:\/[^/]+)?|me)$/;

/** APIs (the operator's under /admin/api/), back-channel endpoints and the metrics scraper get JSON errors; browsers (the operator console's pages too) get a page. */
function wantsJson(ctx: Context): boolean {
  return (
    ctx.path.startsWith('/api/') || /^\/admin\/api(?:\/|$)/.test(ctx.path) || BACK_CHANNEL.test(ctx.path) || ctx.path === '/metrics' || ctx.accepts('html', 'json') === 'json'
  );
}

/** Classifies anything thrown into status, code, a user-safe message and optional field errors. */
function classify(err: unknown): {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, string>;
  fieldCodes?: Record<string, string>;
} {
  if (err instanceof AppError) {
    return {
      status: err.status,
      code: err.code,
      message: err.expose ? err.message : 'Something went wrong on our side.',
      ...(err.expose && err.fields ? { fields: err.fields } : {}),
      ...(err.expose && err.fieldCodes ? { fieldCodes: err.fieldCodes } : {}),
    };
  }
  const e = (err ?? {}) as HttpishError & { name?: string; error?: unknown };
  // knex found no free connection in time: the instance is overloaded, not broken. Through the provider's
  // adapter (interactionDetails, Grant.find…) the same arrives as oidc-provider's temporarily_unavailable.
  if (e.name === 'KnexTimeoutError' || e.error === 'temporarily_unavailable') return { status: 503, code: 'temporarily_unavailable', message: BUSY };
  // A NUL character sent in a field is the client's error. The request's transaction is rolled back all the same
  // (the error has no status: a server error to it).
  if (isNulRefused(err)) return { status: 400, code: 'invalid_request', message: 'The request contains a NUL character, which this server does not accept.' };
  const status = e.status ?? e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message =
      status === 413 ? 'The request body is larger than this server accepts.' : e.expose && e.message ? e.message : 'Bad request.';
    return { status, code: status === 413 ? 'request_too_large' : status === 404 ? 'not_found' : 'invalid_request', message };
  }
  return { status: 500, code: 'server_error', message: 'Something went wrong on our side.' };
}

/**
 * The one place errors become responses: JSON for APIs, an HTML page for browsers, and for 5xx
 * a bare message with the request id. Causes are logged, never sent.
 */
export function errorHandler(render: Renderer) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.respond !== false && ctx.status === 404 && ctx.body === undefined) throw Object.assign(new Error('not found'), { status: 404, expose: true, message: 'There is nothing at this address.' });
    } catch (err) {
      const c = classify(err);
      if (c.status === 503) ctx.state.log?.warn({ code: c.code }, 'no database connection free in time');
      else if (c.status >= 500) ctx.state.log?.error({ err }, 'unhandled error');
      else ctx.state.log?.info({ code: c.code, status: c.status }, 'request refused');
      ctx.status = c.status;
      const retryAfter = (err as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
      if (c.status === 429 && typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
      if (err instanceof MethodNotAllowedError) ctx.set('Allow', err.allow);
      if (c.status === 503) ctx.set('Retry-After', '2');
      if (wantsJson(ctx)) {
        ctx.body = {
          error: c.code,
          error_description: c.message,
          ...(c.fields ? { fields: c.fields } : {}),
          // Per-field machine codes (`required`, `too_long`, `duplicate_email`, …) beside the messages.
          ...(c.fieldCodes ? { field_codes: c.fieldCodes } : {}),
        };
        return;
      }
      ctx.type = 'html';
      ctx.body = await render('errors/error', {
        title: HEADINGS[c.status] ?? 'Error',
        heading: HEADINGS[c.status] ?? 'Something went wrong',
        message: c.message,
        requestId: ctx.state.requestId,
        // No dead end: a holder who met an error (a stale bookmark, a form sent twice) goes on to their card pages,
        // which ask for a sign-in when needed. The operator's console is not theirs.
        wayOn: ctx.path === '/admin' || ctx.path.startsWith('/admin/') ? null : '/card/account',
      });
    }
  };
}

/**
 * For oidc-provider (provider.use): its own error handler answers a busy database with 503
 * temporarily_unavailable (oidc/adapter.ts); this adds the Retry-After our routes send with it.
 */
export async function retryAfterWhenBusy(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', '2');
}
