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

/** The actor an operator token stands for (`operator` or `operator:<name>`), or undefined for any other text. */
export type OperatorMatcher = (token: string) => { actor: string; token: string } | undefined;

/**
 * Matches a presented token against every accepted one in constant time each, all of them every time (so the time
 * taken says nothing of which one came close). The actor the audit trail records is `operator` for the shared token,
 * `operator:<name>` for a person's. Shared by the API's bearer check and the console's sign-in (admin/console-session.ts).
 */
export function operatorMatcher({ operatorToken, operators }: OperatorCredentials): OperatorMatcher {
  const accepted = [
    ...(operatorToken !== undefined ? [{ actor: 'operator', token: operatorToken }] : []),
    ...operators.map((o) => ({ actor: `operator:${o.name}`, token: o.token })),
  ];
  return (token) => {
    let found: { actor: string; token: string } | undefined;
    for (const a of accepted) if (safeEqual(token, a.token)) found = a;
    return found;
  };
}

/**
 * `Bearer`, in any case (RFC 9110 §11.1), one or more spaces, the token (RFC 6750 §2.1); the whitespace around a header
 * value is not part of it (RFC 9110 §5.5). The one rule for operator tokens: whitespace around one is never part of
 * it (configured tokens are trimmed, the console trims a pasted one), and the token itself is compared exactly.
 */
const BEARER = /^Bearer +(.+)$/i;

/** Guards the operator API: `Authorization: Bearer <token>`, one of the accepted tokens (operatorMatcher). */
export function requireOperator(credentials: OperatorCredentials) {
  const match = operatorMatcher(credentials);
  return async function requireOperatorToken(ctx: Context, next: Next): Promise<void> {
    const m = BEARER.exec(ctx.get('authorization'));
    const actor = m ? match(m[1]!)?.actor : undefined;
    if (!actor) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cybercard-operator"');
      throw new OperatorAuthError();
    }
    ctx.state.actor = actor;
    await next();
  };
}
