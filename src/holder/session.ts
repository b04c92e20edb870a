/**
 * Holder sessions: the card holder signed in on the card manager's own pages (spending controls, second
 * factor, and the balance and statement pages other parts build on this same interface).
 *
 * How another holder page uses it:
 *   const sessions = holderSessions(deps);     // built once in app.ts, passed to your router factory
 *   router.use(sessions.requireHolder);         // every route after it has a signed-in holder of an active card
 *   const { accountId, cardId } = ctx.state.holder as HolderState;
 * Without a live session, requireHolder answers pages with 303 to /card/signin?next=<path> and paths under
 * /api/ with a 401 JSON error. A session ends after holderSessions.ttlSeconds (absolute), at sign-out, at a
 * password reset, and as soon as its card is no longer active (lost, reissued, suspended, closed). One that runs out
 * is audited (holder.session_ended) by the request that finds it, or by the periodic cleanup.
 *
 * A former holder signs in with their closed card (cards/former-holder.ts says which closed cards may) to a limited
 * session (HolderState.cardClosed, recorded when it begins): only the routes behind requireHolderOrFormer (what is
 * owed, statements, activity, data, contacts, reporting a payment) take it; requireHolder answers it with a 403 page
 * or a 403 card_closed JSON error before the route runs, so nothing changes. A session begun with an active card
 * never becomes a limited one: closing the card ends it (cards/close.ts), and so does any other end of the card.
 *
 * Routes here: GET/POST /card/signin (card number + password, throttled per source and counted towards the
 * card lockout exactly like the hosted login page), POST /card/signout (form field csrf, purpose
 * SIGNOUT_PURPOSE; pages get its token, and the navigation its other locals, from holderNav(ctx, db)).
 * Cookie `cc.holder`: a random 32-byte id, signed, HttpOnly, SameSite=Lax, Secure on https. PostgreSQL keeps
 * only its SHA-256 (holder_sessions), so every instance agrees and the table cannot be replayed as cookies.
 * JSON APIs under /api/holder/ need Content-Type: application/json (http/validate.ts jsonBody), which a
 * cross-site form cannot send; with the SameSite=Lax cookie that is their CSRF defence.
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import { inactiveCardMessage } from '../approvals/errors.ts';
import { CardPasswordError } from '../cards/contact-change.ts';
import { signsInClosed } from '../cards/former-holder.ts';
import { hashDeviceId, noteDevice } from '../cards/note-device.ts';
import { cardNumberField, passwordField } from '../cards/input-fields.ts';
import type { CardDeps } from '../cards/deps.ts';
import { appendAudit } from '../db/audit-log.ts';
import { deleteHolderSession, endExpiredHolderSessions, findLiveHolderSession, insertHolderSession } from '../db/holder-sessions.ts';
import type { Db } from '../db/knex.ts';
import { cardThrottleKeyById } from '../db/throttles.ts';
import { inTransaction } from '../db/tx.ts';
import { hasWards } from '../db/wards.ts';
import { AppError, InvalidCredentialsError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { bindFormsToSession, hashSessionId, sessionCookieId } from '../http/session-cookie.ts';
import type { CookieOptions } from '../http/signed-cookies.ts';
import { attemptSource } from '../http/device-cookie.ts';
import { formFields } from '../http/form.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { randomToken } from '../lib/ids.ts';
import { checkCardPassword } from '../throttles/check-card-password.ts';
import { lockedMessage, throttledMessage, wrongPasswordMessage, type ThrottleDeps } from '../throttles/guard-attempt.ts';
import { guardGuess } from '../throttles/guard-proof.ts';

/** What requireHolder puts on ctx.state.holder. */
export interface HolderState {
  accountId: string;
  cardId: string;
  /** When this session began: the sign-in before it is the holder's previous one. */
  signedInAt: Date;
  /** Signed in with the closed card: the limited session of a former holder (requireHolderOrFormer's routes only). */
  cardClosed: boolean;
  /** The SHA-256 of the session's id, its row's key (holder_sessions), for what this session alone may do. */
  sessionIdHash: Buffer;
}

export interface HolderSessionDeps {
  parseBody: Middleware;
  cards: CardDeps;
  throttle: ThrottleDeps;
  render: Renderer;
  ttlSeconds: number;
}

const COOKIE = 'cc.holder';
export const SIGNOUT_PURPOSE = 'holder:signout';
// The account page first: it warns of wrong passwords typed since the previous sign-in.
const DEFAULT_NEXT = '/card/account';
/** Where the new-device notice says a sign-in here went (in place of a member site's name): the card manager's own pages. */
const HOLDER_PAGES_NAME = 'cybercard';

/** Only our own holder pages may be a `next`: never another origin, never a path with a query. */
const nextField = z
  .string()
  .regex(/^\/card\/[a-z0-9/-]{1,60}$/, 'Not a page of this site.')
  .optional()
  .catch(undefined);

const signinInput = z.object({ card_number: cardNumberField, password: passwordField, next: nextField });

const SIGNIN: FormPage<typeof signinInput> = {
  view: 'holder/signin',
  title: 'Sign in to your card',
  purpose: 'holder:signin',
  fields: ['card_number', 'password', 'next'],
  keep: ['card_number', 'next'],
  schema: signinInput,
};


/** What the holder pages' navigation (views/holder/nav.ejs) needs: the sign-out form's token, and whether to link the children's cards. */
export interface HolderNav {
  signOutCsrf: string;
  /** The "Children's cards" link shows only to a guardian (the page itself answers anyone, saying there are none). */
  hasWards: boolean;
  /** The page's own path, which the navigation marks as the current page. */
  current: string;
  /** A former holder's session (closed card): the navigation links only the pages it opens. */
  cardClosed: boolean;
}

/** The navigation's locals for the signed-in holder's page (`nav` in the view). */
export async function holderNav(ctx: Context, db: Db, known?: { hasWards: boolean }): Promise<HolderNav> {
  const { accountId, cardClosed } = ctx.state.holder as HolderState;
  // A closed card's session is refused on the children's cards page (requireHolder): no link to it, nor a query.
  const wards = cardClosed ? false : (known?.hasWards ?? (await hasWards(db, accountId)));
  return { signOutCsrf: csrfToken(ctx, SIGNOUT_PURPOSE), hasWards: wards, current: ctx.path, cardClosed };
}

/**
 * Runs `action`, which checks the signed-in holder's card password typed again (a session may be old) and throws
 * CardPasswordError when it is wrong, under the throttles: counted against the source and the card, like the login page's.
 */
export async function withHolderPassword<T>(ctx: Context, deps: { throttle: ThrottleDeps; db: Db }, action: () => Promise<T>): Promise<T> {
  const { cardId } = ctx.state.holder as HolderState;
  return guardGuess(
    deps.throttle,
    { source: attemptSource(ctx), cardKey: await cardThrottleKeyById(deps.db, cardId), check: 'password' },
    action,
    (err) => err instanceof CardPasswordError,
  );
}

/**
 * A sign-in refused before or despite a right password; `code` lets the page offer the next step (partials/next-step.ejs:
 * a reset for card_locked, a new number for card_lost).
 */
class SignInRefusedError extends AppError {
  constructor(code: 'too_many_attempts' | 'card_locked' | 'card_lost' | 'card_inactive', status: number, message: string) {
    super(code, message, { status });
  }
}

class NotSignedInError extends AppError {
  constructor() {
    super('not_signed_in', 'Sign in to your card first.', { status: 401 });
  }
}

/** What a former holder's session (closed card) is told on a page or API that is for active cards only. */
export const CARD_CLOSED_MESSAGE = 'This card is closed: this is no longer yours to change. You can still see and pay what you owe on your account page.';

class CardClosedError extends AppError {
  constructor() {
    super('card_closed', CARD_CLOSED_MESSAGE, { status: 403 });
  }
}

/** Sign-in and sign-out routes, and the requireHolder middleware for every holder page and API. */
export function holderSessions(deps: HolderSessionDeps) {
  const { show, submit } = formPages(deps.render);
  const cookieOptions = (ctx: Context): CookieOptions => ({ signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: deps.ttlSeconds * 1000, overwrite: true });

  /** Finds the session and sets ctx.state.holder; false when there is none (the answer is then given). */
  async function signedIn(ctx: Context): Promise<boolean> {
    const id = sessionCookieId(ctx, COOKIE, cookieOptions(ctx));
    const idHash = id ? hashSessionId(id) : undefined;
    const session = idHash ? await findLiveHolderSession(deps.cards.db, idHash) : undefined;
    // One that has run out ends here, audited: there was no sign-out to record it.
    if (!session && idHash) await endExpiredHolderSessions(deps.cards.db, { idHash, requestId: ctx.state.requestId });
    if (!session || !id || !idHash) {
      if (ctx.path.startsWith('/api/')) throw new NotSignedInError();
      ctx.status = 303;
      ctx.redirect(`/card/signin?next=${encodeURIComponent(ctx.path)}`);
      return false;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.state.holder = {
      accountId: session.accountId,
      cardId: session.cardId,
      signedInAt: session.createdAt,
      cardClosed: session.cardClosed,
      sessionIdHash: idHash,
    } satisfies HolderState;
    bindFormsToSession(ctx, id);
    return true;
  }

  /** Every holder page and API for an active card: a former holder's session (closed card) is refused with a 403. */
  async function requireHolder(ctx: Context, next: Next): Promise<void> {
    if (!(await signedIn(ctx))) return;
    if ((ctx.state.holder as HolderState).cardClosed) {
      if (ctx.path.startsWith('/api/')) throw new CardClosedError();
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = await deps.render('holder/card-closed', { title: 'This card is closed', nav: await holderNav(ctx, deps.cards.db), message: CARD_CLOSED_MESSAGE });
      return;
    }
    await next();
  }

  /** The pages that show and settle what is owed: they take a former holder's session (closed card) too. */
  async function requireHolderOrFormer(ctx: Context, next: Next): Promise<void> {
    if (await signedIn(ctx)) await next();
  }

  const router = new Router();
  router.use(['/card/signin', '/card/signout'], deps.parseBody);

  router.get('/card/signin', async function showSignIn(ctx) {
    const next = nextField.parse(ctx.query.next);
    // Landed here from the sign-out button: say that it worked, or the holder cannot tell it from a session run out.
    const signedOut = ctx.query.signed_out === '1';
    await show(ctx, { ...SIGNIN, locals: { signedOut } }, { values: next ? { next } : {} });
  });

  router.post('/card/signin', (ctx) =>
    submit(ctx, SIGNIN, async (input) => {
      const source = attemptSource(ctx);
      const outcome = await checkCardPassword(
        { cards: deps.cards, throttle: deps.throttle },
        {
          cardNumber: input.card_number,
          password: input.password,
          source,
          via: { page: 'holder_signin' },
          // A former holder signs in with the closed card to see and settle what is owed (a limited session).
          takes: (card) => signsInClosed(deps.cards.db, card),
        },
      );
      switch (outcome.kind) {
        case 'throttled':
          ctx.set('Retry-After', String(outcome.retryAfterSeconds));
          throw new SignInRefusedError('too_many_attempts', 429, throttledMessage(outcome.retryAfterSeconds));
        case 'wrong':
          throw new InvalidCredentialsError(wrongPasswordMessage(deps.throttle.limits.card.maxFailures));
        case 'locked':
          throw new SignInRefusedError('card_locked', 423, lockedMessage(outcome.until, deps.throttle.timeZone));
        case 'inactive':
          throw new SignInRefusedError(outcome.card.status === 'lost' ? 'card_lost' : 'card_inactive', 403, inactiveCardMessage(outcome.card.status));
      }
      const { card } = outcome;
      const cardClosed = card.status === 'closed';
      // A fresh id at every sign-in, and the session this browser had before ends (as the console's do): left behind
      // live, a copy of its cookie would outlast the browser's move to another card or a new sign-in.
      const old = sessionCookieId(ctx, COOKIE, cookieOptions(ctx));
      const id = randomToken(32);
      await inTransaction(deps.cards.db, async (trx) => {
        if (old) await deleteHolderSession(trx, hashSessionId(old));
        await insertHolderSession(trx, { idHash: hashSessionId(id), accountId: card.accountId, cardId: card.id, ttlSeconds: deps.ttlSeconds, cardClosed });
        await appendAudit(trx, {
          actor: `card:${card.id}`,
          action: 'holder.signed_in',
          subjectType: 'card',
          subjectId: card.id,
          details: { accountId: card.accountId, ...(cardClosed ? { cardClosed } : {}) },
          requestId: ctx.state.requestId,
        });
      });
      // The password proved the holder here as at a member site's login: this browser becomes a known device (its
      // one-time codes kept and bound to it, cards/request-code.ts), and a browser new to the account tells the holder,
      // once, whichever of the two it first signed in on.
      await noteDevice(deps.cards.db, {
        accountId: card.accountId,
        deviceHash: hashDeviceId(deps.cards.cardHmacKey, source.deviceId),
        siteName: HOLDER_PAGES_NAME,
        timeZone: deps.throttle.timeZone,
      });
      ctx.cookies.set(COOKIE, id, cookieOptions(ctx));
      ctx.status = 303;
      ctx.redirect(input.next ?? DEFAULT_NEXT);
    }),
  );

  router.post('/card/signout', async function signOut(ctx) {
    const form = formFields(ctx, ['csrf']);
    const id = sessionCookieId(ctx, COOKIE, cookieOptions(ctx));
    // The sign-out button's token was made on a signed-in page, bound to this session (requireHolder): checked so too.
    if (id) bindFormsToSession(ctx, id);
    checkCsrf(ctx, SIGNOUT_PURPOSE, form.csrf);
    if (id) await deleteHolderSession(deps.cards.db, hashSessionId(id));
    ctx.cookies.set(COOKIE, null, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, overwrite: true });
    ctx.status = 303;
    ctx.redirect('/card/signin?signed_out=1');
  });

  return { router, requireHolder: requireHolder as Middleware, requireHolderOrFormer: requireHolderOrFormer as Middleware };
}
