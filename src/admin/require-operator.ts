import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import type { Secrets } from '../config/schema.ts';
import { safeEqual } from '../lib/hmac.ts';

export class OperatorAuthError extends AppError {
  constructor() {
    super('unauthorized', 'The operator API needs a valid operator bearer token.', { status: 401 });
  }
}

/** Who may use the operator API: the shared OPERATOR_TOKEN and each person's of OPERATOR_TOKENS. */
export type OperatorCredentials = Pick<Secrets, 'operatorToken' | 'operators'>;

/**
 * Guards the operator API: `Authorization: Bearer <token>`, compared in constant time with every token (so the time
 * taken says nothing of which one came close). The actor the audit trail records is `operator` for the shared token,
 * `operator:<name>` for a person's.
 */
export function requireOperator({ operatorToken, operators }: OperatorCredentials) {
  const accepted = [
    ...(operatorToken !== undefined ? [{ actor: 'operator', token: operatorToken }] : []),
    ...operators.map((o) => ({ actor: `operator:${o.name}`, token: o.token })),
  ];
  return async function requireOperatorToken(ctx: Context, next: Next): Promise<void> {
    const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    let actor: string | undefined;
    if (m) for (const a of accepted) if (safeEqual(m[1]!, a.token)) actor = a.actor;
    if (!actor) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cybercard-operator"');
      throw new OperatorAuthError();
    }
    ctx.state.actor = actor;
    await next();
  };
}
