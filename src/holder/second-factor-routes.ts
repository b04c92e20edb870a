import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { findCard } from '../db/cards.ts';
import { cardThrottleKeyById } from '../db/throttles.ts';
import { findTotpFactor } from '../db/totp-factors.ts';
import { ValidationError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { attemptSource } from '../http/device-cookie.ts';
import { formFields } from '../http/form.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors, jsonBody, parseWith } from '../http/validate.ts';
import { confirmEnrolment, CurrentCodeError, EnrolmentError } from '../second-factor/confirm-enrolment.ts';
import type { SecondFactorDeps } from '../second-factor/deps.ts';
import { pendingEnrolment, startEnrolment } from '../second-factor/start-enrolment.ts';
import type { Money } from '../lib/money.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { AttemptRefusedError, guardGuess } from '../throttles/guard-proof.ts';
import { holderNav, type HolderState } from './session.ts';

export interface SecondFactorRouteDeps {
  parseBody: Middleware;
  requireHolder: Middleware;
  render: Renderer;
  secondFactor: SecondFactorDeps;
  /** A code of the app being replaced is a guess: throttled per source, counted towards the card lockout. */
  throttle: ThrottleDeps;
  /** Approvals above this amount ask for a code (shown on the page, in its language). */
  stepUpAbove: Money;
}

const PURPOSE = 'holder:totp';
const CODE = 'Enter the 6-digit code your authenticator app shows.';

const sixDigits = (message: string) =>
  z
    .string({ error: message })
    .max(20, message)
    .transform((s) => s.replace(/\s/g, ''))
    .refine((s) => /^\d{6}$/.test(s), message);

const confirmInput = z.strictObject({
  enrol_token: z.string({ error: 'Start the set-up first.' }).regex(/^[A-Za-z0-9_-]{32}$/, 'Start the set-up first.'),
  code: sixDigits(CODE),
  /** Replacing a confirmed app: a code of that one. */
  current_code: z.union([z.literal('').transform(() => undefined), sixDigits('Enter the 6-digit code your current authenticator app shows.')]).optional(),
});

/** TOTP enrolment: the holder's page (/card/security) and JSON API (/api/holder/totp). */
export function secondFactorRoutes(deps: SecondFactorRouteDeps): Router {
  const router = new Router();
  router.use(['/card/security', '/api/holder/totp'], deps.parseBody, deps.requireHolder);
  const sf = deps.secondFactor;

  async function status(accountId: string) {
    const f = await findTotpFactor(sf.db, accountId);
    return { enrolled: Boolean(f?.secretSealed), confirmedAt: f?.confirmedAt ?? null };
  }

  async function holderCard(ctx: Context) {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    const card = await findCard(sf.db, cardId);
    return { accountId, cardId, last4: card?.last4 ?? '••••' };
  }

  async function begin(ctx: Context) {
    const { accountId, last4 } = await holderCard(ctx);
    return startEnrolment(sf, { accountId, last4 }, ctx.state.requestId);
  }

  /** Confirms, a code of the app being replaced guarded like a step-up code. */
  async function confirm(ctx: Context, input: z.output<typeof confirmInput>) {
    const { accountId, cardId, last4 } = await holderCard(ctx);
    const run = () =>
      confirmEnrolment(sf, { accountId, last4, token: input.enrol_token, code: input.code, currentCode: input.current_code, requestId: ctx.state.requestId });
    await guardGuess(
      deps.throttle,
      { source: attemptSource(ctx), cardKey: await cardThrottleKeyById(sf.db, cardId), check: 'second_factor' },
      run,
      (err) => err instanceof CurrentCodeError,
    );
  }

  async function render(ctx: Context, view: string, locals: Record<string, unknown>, status = 200) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.render(view, { csrf: csrfToken(ctx, PURPOSE), nav: await holderNav(ctx, sf.db), stepUpAbove: deps.stepUpAbove, ...locals });
  }

  router.get('/card/security', async function showSecondFactor(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    await render(ctx, 'holder/security', { title: 'Second factor', ...(await status(accountId)), notice: null });
  });

  const ENROL = { title: 'Set up an authenticator app' };

  router.post('/card/security/totp', async function beginEnrolment(ctx) {
    const form = formFields(ctx, ['csrf']);
    checkCsrf(ctx, PURPOSE, form.csrf);
    const { enrolled: replacing } = await status((ctx.state.holder as HolderState).accountId);
    const e = await begin(ctx);
    await render(ctx, 'holder/totp-enrol', { ...ENROL, uri: e.uri, secret: e.base32, token: e.token, replacing, error: null, fields: {} });
  });

  router.post('/card/security/totp/confirm', async function confirmByForm(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    // Only for a page shown again: whether the form must ask for a code of the app being replaced.
    const replacing = async () => (await status(accountId)).enrolled;
    let raw: Record<string, string>;
    try {
      raw = formFields(ctx, ['csrf', 'enrol_token', 'code', 'current_code']);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(ctx, 'holder/totp-enrol', { ...ENROL, uri: null, secret: null, token: '', replacing: await replacing(), error: err.message, fields: err.fields ?? {} }, 400);
    }
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const { csrf: _csrf, ...rest } = raw;
    const parsed = confirmInput.safeParse(rest);
    // The same set-up again, its link and key included while it is still pending, for another try.
    const again = async (status: number, error: string, fields: Record<string, string>, errorCode: string | null = null) => {
      const token = raw.enrol_token ?? '';
      const pending = /^[A-Za-z0-9_-]{32}$/.test(token) ? await pendingEnrolment(sf, await holderCard(ctx), token) : undefined;
      return render(
        ctx,
        'holder/totp-enrol',
        { ...ENROL, uri: pending?.uri ?? null, secret: pending?.base32 ?? null, token: pending ? token : '', replacing: await replacing(), error, errorCode, fields },
        status,
      );
    };
    if (!parsed.success) return again(400, 'Some fields need attention.', fieldErrors(parsed.error));
    try {
      await confirm(ctx, parsed.data);
    } catch (err) {
      if (err instanceof AttemptRefusedError) {
        if (err.retryAfterSeconds) ctx.set('Retry-After', String(err.retryAfterSeconds));
        return again(err.status, err.message, {}, err.code);
      }
      if (!(err instanceof EnrolmentError)) throw err;
      return again(err.status, err.message, err.fields ?? {});
    }
    await render(ctx, 'holder/security', {
      title: 'Second factor',
      ...(await status(accountId)),
      notice: 'Your authenticator app is set up. Large payments will ask for its code.',
    });
  });

  router.get('/api/holder/totp', async function readSecondFactor(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    const s = await status(accountId);
    ctx.body = { enrolled: s.enrolled, confirmed_at: s.confirmedAt?.toISOString() ?? null };
  });

  router.post('/api/holder/totp', async function beginEnrolmentApi(ctx) {
    parseWith(z.strictObject({}), jsonBody(ctx));
    const e = await begin(ctx);
    ctx.status = 201;
    ctx.body = { otpauth_uri: e.uri, secret: e.base32, enrol_token: e.token };
  });

  router.post('/api/holder/totp/confirm', async function confirmByApi(ctx) {
    await confirm(ctx, parseWith(confirmInput, jsonBody(ctx)));
    ctx.body = { status: 'enrolled' };
  });

  return router;
}
