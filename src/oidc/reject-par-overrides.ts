import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';

class ParOverrideError extends AppError {
  constructor() {
    super(
      'invalid_request',
      'authorization_details can only be sent inside the pushed authorization request (PAR), not beside its request_uri.',
      { status: 400 },
    );
  }
}

/**
 * A payment pushed through PAR cannot be changed afterwards: an authorization request that carries a
 * request_uri and an authorization_details of its own is refused outright (RFC 9126 §4 has the server use
 * only the pushed parameters; refusing makes a tampered link visible instead of silently ignoring it).
 */
export async function rejectParOverrides(ctx: Context, next: Next): Promise<void> {
  if (ctx.path === '/auth' && ctx.query.request_uri !== undefined && ctx.query.authorization_details !== undefined) {
    throw new ParOverrideError();
  }
  await next();
}
