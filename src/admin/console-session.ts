/**
 * Operator console sessions: the operator signs in at /admin/signin by pasting an operator token (OPERATOR_TOKEN, or
 * their own of OPERATOR_TOKENS), and the console's pages (admin/console-*-routes.ts) then act as that operator:
 * ctx.state.actor is `operator` or `operator:<name>`, exactly what the API's bearer check sets, so the audit trail
 * cannot tell a console action from an API call by the same person.
 *
 * Cookie `cc.operator` (path /admin): a random 32-byte id, signed, HttpOnly, SameSite=Strict, Secure on https, no
 * Max-Age (gone with the browser). PostgreSQL keeps its SHA-256 (operator_sessions), so every instance agrees. A
 * session ends at sign-out, after operatorSessions.idleSeconds without a request, operatorSessions.maxSeconds after
 * sign-in, and as soon as the token it was opened with is no longer configured. Wrong tokens count against the source
 * (IP address, device cookie) as wrong card passwords do. The audit trail has each sign-in and sign-out
 * (operator.signed_in, operator.signed_out) with the address it came from, and each end without a sign-out
 * (operator.session_ended: idle, max_age, token_removed) when a request or the periodic cleanup finds it. The token
 * travels only in the sign-in form's body: never in a URL, a log line or a re-rendered form.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { deleteOperatorSession, endExpiredOperatorSessions, endSessionOfRemovedToken, insertOperatorSession, touchOperatorSession } from '../db/operator-sessions.ts';
import { inTransaction } from '../db/tx.ts';
import { AppError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { bindFormsToSession, hashSessionId, sessionCookieId } from '../http/session-cookie.ts';
import { attemptSource } from '../http/device-cookie.ts';
import { formFields } from '../http/form.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import { onlyInEnglish } from '../http/locale.ts';
import type { Renderer } from '../http/render.ts';
import { sha256Hex } from '../lib/hmac.ts';
import { randomToken } from '../lib/ids.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { guardGuess } from '../throttles/guard-proof.ts';
import { acceptedOperators, operatorMatcher, refuseViewerChanges, type OperatorCredentials } from './require-operator.ts';

export interface ConsoleSessionDeps {
  parseBody: Middleware;
  /** The request's connection: a sign-in's session row and audit entry commit with the request. */
  db: Db;
  /**
   * A pool outside the request (app.ts's side pool): each page moves its session's idle deadline on in one
   * statement committed at once, so a request never holds the session row locked while it works.
   */
  sessionDb: Db;
  throttle: ThrottleDeps;
  render: Renderer;
  credentials: OperatorCredentials;
  idleSeconds: number;
  maxSeconds: number;
}

/** What every console page's navigation (views/admin/nav.ejs) needs. */
export interface ConsoleNav {
  actor: string;
  signOutCsrf: string;
  /** The page's own path: its section's link is marked as where the operator is. */
  current: string;
  /** A viewer's session: the pages leave out the forms that would change something, and say so. */
  readOnly: boolean;
}

const COOKIE = 'cc.operator';
const COOKIE_PATH = '/admin';
export const CONSOLE_SIGNOUT_PURPOSE = 'admin:signout';
const HOME = '/admin/applications';

const signinInput = z.object({
  // A paste often brings a newline or spaces along: never part of a token (admin/require-operator.ts BEARER).
  token: z
    .string()
    .trim()
    .min(1, 'Paste your operator token.')
    .max(1024, 'That is longer than any operator token.'),
});

const SIGNIN: FormPage<typeof signinInput> = {
  view: 'admin/signin',
  title: 'Operator console: sign in',
  purpose: 'admin:signin',
  fields: ['token'],
  // The token never comes back in a page.
  keep: [],
  schema: signinInput,
};


class WrongOperatorTokenError extends AppError {
  constructor() {
    super('invalid_token', 'That is not an operator token of this card manager.', { status: 401, fields: { token: 'Not an operator token.' } });
  }
}

/**
 * No console answer is kept by a browser or a proxy, refusals and redirects included: set before the route runs, so
 * the error handler's page for a refused form (a CSRF refusal, a 429) carries it too.
 */
async function noStore(ctx: Context, next: Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  await next();
}

/** The console's pages are for the operator's staff: always in English, whatever the browser asks for. */
export async function inEnglish(ctx: Context, next: Next): Promise<void> {
  onlyInEnglish(ctx);
  await next();
}

/**
 * The notice a console page shows for its redirect's `done` (the query after a decision): one of the page's own
 * words, or none. An own key only: `?done=constructor` must not find Object's and print a function.
 */
export function doneNotice(notices: Readonly<Record<string, string>>, done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(notices, done) ? notices[done] : undefined;
}

/** The navigation's locals for a signed-in operator's page (`nav` in the view). */
export function consoleNav(ctx: Context): ConsoleNav {
  return { actor: String(ctx.state.actor), signOutCsrf: csrfToken(ctx, CONSOLE_SIGNOUT_PURPOSE), current: ctx.path, readOnly: ctx.state.operatorRole === 'viewer' };
}

/** A moment as the console's pages show it: to the minute, in UTC, said so. */
export const utcMinute = (d: Date): string => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * Answers a signed-in operator's page: `view` as HTML in the console's wide layout, with its navigation. No
 * Cache-Control here: requireConsoleOperator, in front of every console page, has set no-store before the route ran.
 */
export async function sendConsolePage(ctx: Context, render: Renderer, view: string, locals: Record<string, unknown>, status = 200): Promise<void> {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = await render(view, { wide: true, nav: consoleNav(ctx), ...locals });
}

/** Sign-in and sign-out routes, and requireConsoleOperator for every console page. */
export function consoleSessions(deps: ConsoleSessionDeps) {
  const { show, submit } = formPages(deps.render);
  const match = operatorMatcher(deps.credentials);
  const lifetime = { idleSeconds: deps.idleSeconds, maxSeconds: deps.maxSeconds };
  const cookieOptions = (ctx: Context) => ({ signed: true, httpOnly: true, sameSite: 'strict' as const, secure: ctx.secure, path: COOKIE_PATH, overwrite: true });

  const sessionId = (ctx: Context): string | undefined => sessionCookieId(ctx, COOKIE, cookieOptions(ctx));

  /**
   * Lets the request through as the signed-in operator (ctx.state.actor), or sends the browser to the sign-in page
   * (303; a form posted without a session does nothing). A session whose token is no longer configured is ended.
   */
  async function requireConsoleOperator(ctx: Context, next: Next): Promise<void> {
    // Before anything can answer: the redirect to sign in and a refused form are console answers too.
    ctx.set('Cache-Control', 'no-store');
    const id = sessionId(ctx);
    const session = id ? await touchOperatorSession(deps.sessionDb, hashSessionId(id), lifetime) : undefined;
    // The role is the token's as configured now: a changed role applies to a session already open.
    const accepted = session !== undefined ? stillConfigured(session.actor, session.tokenHash) : undefined;
    const stillAccepted = accepted !== undefined;
    // A session that ends here ends audited: there was no sign-out to record it.
    const noticed = { ip: ctx.ip, requestId: ctx.state.requestId as string | undefined };
    if (session && !stillAccepted) await endSessionOfRemovedToken(deps.sessionDb, hashSessionId(id!), noticed, deps.maxSeconds);
    if (!session && id) await endExpiredOperatorSessions(deps.sessionDb, deps.maxSeconds, { ...noticed, idHash: hashSessionId(id) });
    if (!stillAccepted || !session) {
      if (ctx.cookies.get(COOKIE)) ctx.cookies.set(COOKIE, null, cookieOptions(ctx));
      ctx.status = 303;
      ctx.redirect('/admin/signin');
      return;
    }
    ctx.state.actor = session.actor;
    // Its forms' CSRF tokens are bound to this session, as a signed-in holder's are.
    bindFormsToSession(ctx, id!);
    refuseViewerChanges(ctx, accepted, 'the console');
    await next();
  }

  const configured = acceptedOperators(deps.credentials).map((o) => ({ actor: o.actor, role: o.role, tokenHash: sha256Hex(o.token) }));
  /** The configured operator a session stands for, if its token is still configured for the same actor. */
  function stillConfigured(actor: string, tokenHash: string): (typeof configured)[number] | undefined {
    return configured.find((c) => c.actor === actor && c.tokenHash === tokenHash);
  }

  const router = new Router();
  router.use(['/admin/signin', '/admin/signout'], noStore, inEnglish, deps.parseBody);

  router.get('/admin/signin', async function showConsoleSignIn(ctx) {
    await show(ctx, SIGNIN);
  });

  router.post('/admin/signin', (ctx) =>
    submit(ctx, SIGNIN, async (input) => {
      const found = await guardGuess(
        deps.throttle,
        { source: attemptSource(ctx), cardKey: undefined, check: 'operator_token' },
        async () => {
          const m = match(input.token);
          if (!m) throw new WrongOperatorTokenError();
          return m;
        },
        (err) => err instanceof WrongOperatorTokenError,
      );
      // A fresh id at every sign-in; a session this browser had before ends (no fixation).
      const old = sessionId(ctx);
      const id = randomToken(32);
      await inTransaction(deps.db, async (trx) => {
        if (old) await deleteOperatorSession(trx, hashSessionId(old));
        await insertOperatorSession(trx, { idHash: hashSessionId(id), actor: found.actor, tokenHash: sha256Hex(found.token), idleSeconds: deps.idleSeconds });
        await appendAudit(trx, { actor: found.actor, action: 'operator.signed_in', subjectType: 'operator', subjectId: found.actor, details: { via: 'console', ip: ctx.ip, role: found.role }, requestId: ctx.state.requestId });
      });
      ctx.cookies.set(COOKIE, id, cookieOptions(ctx));
      ctx.status = 303;
      ctx.redirect(HOME);
    }),
  );

  router.post('/admin/signout', async function consoleSignOut(ctx) {
    const form = formFields(ctx, ['csrf']);
    const id = sessionId(ctx);
    if (id) bindFormsToSession(ctx, id);
    checkCsrf(ctx, CONSOLE_SIGNOUT_PURPOSE, form.csrf);
    if (id) {
      await inTransaction(deps.db, async (trx) => {
        const actor = await deleteOperatorSession(trx, hashSessionId(id));
        if (actor) await appendAudit(trx, { actor, action: 'operator.signed_out', subjectType: 'operator', subjectId: actor, details: { via: 'console', ip: ctx.ip }, requestId: ctx.state.requestId });
      });
    }
    ctx.cookies.set(COOKIE, null, cookieOptions(ctx));
    ctx.status = 303;
    ctx.redirect('/admin/signin');
  });

  return { router, requireConsoleOperator: requireConsoleOperator as Middleware };
}
