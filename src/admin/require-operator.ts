import type { Context, Next } from 'koa';
import { AppError, ForbiddenError } from '../errors.ts';
import type { OperatorRole, Secrets } from '../config/schema.ts';
import { safeEqual } from '../lib/hmac.ts';

export class OperatorAuthError extends AppError {
  constructor() {
    super('unauthorized', 'The operator API needs a valid operator bearer token.', { status: 401 });
  }
}

/** Who may use the operator API: the shared OPERATOR_TOKEN and each person's of OPERATOR_TOKENS. */
export type OperatorCredentials = Pick<Secrets, 'operatorToken' | 'operators'>;

/** An accepted operator token: the actor the audit trail records (`operator` or `operator:<name>`) and its role. */
export interface AcceptedOperator {
  actor: string;
  token: string;
  role: OperatorRole;
}

/** The accepted operator a token stands for, or undefined for any other text. */
export type OperatorMatcher = (token: string) => AcceptedOperator | undefined;

/** Every accepted operator token: the shared one (always full access) and each person's with its role. */
export function acceptedOperators({ operatorToken, operators }: OperatorCredentials): AcceptedOperator[] {
  return [
    ...(operatorToken !== undefined ? [{ actor: 'operator', token: operatorToken, role: 'full' as const }] : []),
    ...operators.map((o) => ({ actor: `operator:${o.name}`, token: o.token, role: o.role })),
  ];
}

/**
 * Requests that change nothing though they are POSTs: a card search (a card number travels in a body, never a URL)
 * and the console's check of the books (a form, so that no crawler or prefetch runs it). Exact paths: any other
 * spelling is refused to a viewer, which is the safe side to err on.
 */
const READS_BY_POST: ReadonlySet<string> = new Set(['/admin/api/cards/search', '/admin/cards/search', '/admin/books/check']);

/** Whether a request may change state: every method but GET, HEAD and OPTIONS, save the reads made by POST above. */
export function changesState(ctx: Context): boolean {
  if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS') return false;
  return !(ctx.method === 'POST' && READS_BY_POST.has(ctx.path));
}

/**
 * Reads a viewer may not make though they are GETs: a copy of a holder's data (GET …/cards/:cardId/export, the API's
 * and the console's), which is handed to someone outside once their identity is checked, as a reissue's card is, and
 * which the holder's activity shows as given out. Matched as the routers match (any case, a trailing slash), so that
 * no other spelling of the address gets past.
 */
const FULL_ONLY_READS = /^\/admin(?:\/api)?\/cards\/[^/]+\/export\/?$/i;

/** A viewer's request that would change something (or give out a holder's data): refused whole, before the route runs. */
export class ViewerRefusedError extends ForbiddenError {
  constructor(actor: string, where: 'the operator API' | 'the console', what = `${where} only lets a viewer read`) {
    super(`${actor} is a viewer: ${what}.`);
  }
}

/**
 * The one role check, run by both operator guards (the API's requireOperator, the console's requireConsoleOperator)
 * right after they know who is asking, so that no route behind them can forget it: a viewer's state-changing request,
 * or one for a copy of a holder's data (FULL_ONLY_READS), is refused 403 before the route runs.
 */
export function refuseViewerChanges(ctx: Context, operator: { actor: string; role: OperatorRole }, where: 'the operator API' | 'the console'): void {
  ctx.state.operatorRole = operator.role;
  if (operator.role !== 'viewer') return;
  if (changesState(ctx)) throw new ViewerRefusedError(operator.actor, where);
  if (FULL_ONLY_READS.test(ctx.path)) throw new ViewerRefusedError(operator.actor, where, "a copy of a holder's data is given out by a full operator only");
}

/**
 * Matches a presented token against every accepted one in constant time each, all of them every time (so the time
 * taken says nothing of which one came close). The actor the audit trail records is `operator` for the shared token,
 * `operator:<name>` for a person's. Shared by the API's bearer check and the console's sign-in (admin/console-session.ts).
 */
export function operatorMatcher(credentials: OperatorCredentials): OperatorMatcher {
  const accepted = acceptedOperators(credentials);
  return (token) => {
    let found: AcceptedOperator | undefined;
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

/**
 * Guards the operator API: `Authorization: Bearer <token>`, one of the accepted tokens (operatorMatcher); a viewer's
 * token only reads (refuseViewerChanges).
 */
export function requireOperator(credentials: OperatorCredentials) {
  const match = operatorMatcher(credentials);
  return async function requireOperatorToken(ctx: Context, next: Next): Promise<void> {
    const m = BEARER.exec(ctx.get('authorization'));
    const found = m ? match(m[1]!) : undefined;
    if (!found) {
      ctx.set('WWW-Authenticate', 'Bearer realm="cybercard-operator"');
      throw new OperatorAuthError();
    }
    ctx.state.actor = found.actor;
    refuseViewerChanges(ctx, found, 'the operator API');
    await next();
  };
}

/** The operator API's addresses, in any case as the routers match them. */
const OPERATOR_API = /^\/admin\/api(?:\/|$)/i;

/**
 * The operator token checked for every request under /admin/api before any router looks at it: without a valid token
 * the answer is 401 whether the address exists and whether it takes the method, so that the API's addresses are not
 * told to a caller who may not use them (a router's own guard runs only for a path and method it serves, which left
 * 401 for those and 404 for the rest). The routers keep their own guard: none depends on being mounted behind this.
 */
export function requireOperatorForApi(credentials: OperatorCredentials) {
  const guard = requireOperator(credentials);
  return async function requireOperatorForApiAddresses(ctx: Context, next: Next): Promise<void> {
    if (!OPERATOR_API.test(ctx.path)) return next();
    await guard(ctx, next);
  };
}
