import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import { safeEqual } from '../lib/hmac.ts';

export class OperatorAuthError extends AppError {
  constructor() {
    super('unauthorized', 'The operator API needs a valid operator bearer token.', { status: 401 });
  }
}

/** Guards the operator API: `Authorization: Bearer <OPERATOR_TOKEN>`, compared in constant time. */
export function requireOperator(operatorToken: string) {
  return async function requireOperatorToken(ctx: Context, next: Next): Promise<void> {
    const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    if (!m || !safeEqual(m[1]!, operatorToken)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cybercard-operator"');
      throw new OperatorAuthError();
    }
    ctx.state.actor = 'operator';
    await next();
  };
}
