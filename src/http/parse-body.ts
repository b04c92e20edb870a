import bodyParser from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { AppError } from '../errors.ts';

/**
 * What reading a body refused, in words its sender can act on. @koa/bodyparser (co-body, inflation, raw-body) throws
 * a bare SyntaxError for JSON that does not parse, an unexposed 415 for a Content-Encoding it has no decoder for, and
 * zlib's own error, with no status at all (a server error), for a body that is not compressed as its
 * Content-Encoding says. Its 413 and the aborted request's 400 already say enough.
 */
function refusalOf(err: unknown): AppError | undefined {
  const e = err as { name?: string; status?: number; message?: string; code?: unknown };
  if (e.name === 'SyntaxError' && e.status === 400) {
    const notObject = e.message?.includes('only supports object and array');
    return new AppError('invalid_request', notObject ? 'Send a JSON object.' : 'The body is not valid JSON.', { status: 400, cause: err });
  }
  if (e.status === 415) {
    return new AppError('unsupported_media_type', 'Send the body uncompressed, or with a Content-Encoding of gzip, deflate or br.', { status: 415, cause: err });
  }
  if (e.status === undefined && typeof e.code === 'string' && /^(Z_|ERR__ERROR_)/.test(e.code)) {
    return new AppError('invalid_request', 'The body could not be decompressed as its Content-Encoding says.', { status: 400, cause: err });
  }
  return undefined;
}

/** Form and JSON bodies up to `limitBytes`, for the routes that take them; a body it cannot read is the sender's error (4xx). */
export function createBodyParser(limitBytes: number): Middleware {
  const parse = bodyParser({ enableTypes: ['form', 'json'], formLimit: `${limitBytes}b`, jsonLimit: `${limitBytes}b`, encoding: 'utf-8' });
  return async function parseBody(ctx, next) {
    let read = false;
    try {
      await parse(ctx, () => {
        read = true;
        return next();
      });
    } catch (err) {
      // Only what went wrong reading the body: the routes after it have errors of their own.
      throw (!read && refusalOf(err)) || err;
    }
  };
}

/** What a console form posted in any other body is told: the console's forms are posted by a browser, never by a script. */
export const FORM_BODY_ONLY = 'Send this form as a browser does (application/x-www-form-urlencoded).';

/**
 * Form bodies only, for pages whose every form a browser posts (the operator console): a body of any other type (JSON,
 * multipart, text) is refused with 415 before anything reads it or the session is touched, so a script cannot drive the
 * forms with bodies they never send. A request with no body goes on: its CSRF check refuses it. Fields a form does not
 * have are not refused here: the routes read only their own (readForm), and a browser may add some (a named button).
 */
export function createFormBodyParser(limitBytes: number): Middleware {
  const parse = createBodyParser(limitBytes);
  return async function parseFormBody(ctx, next) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.request.is('application/x-www-form-urlencoded') === false) {
      throw new AppError('unsupported_media_type', FORM_BODY_ONLY, { status: 415 });
    }
    await parse(ctx, next);
  };
}
