import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { findCard } from '../db/cards.ts';
import { findTotpFactor } from '../db/totp-factors.ts';
import { ValidationError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { formFields } from '../http/form.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors, jsonBody, parseWith } from '../http/validate.ts';
import { confirmEnrolment, EnrolmentError } from '../second-factor/confirm-enrolment.ts';
import type { SecondFactorDeps } from '../second-factor/deps.ts';
import { startEnrolment } from '../second-factor/start-enrolment.ts';
import { signOutCsrf, type HolderState } from './session.ts';

export interface SecondFactorRouteDeps {
  parseBody: Middleware;
  requireHolder: Middleware;
  render: Renderer;
  secondFactor: SecondFactorDeps;
  /** Approvals above this amount ask for a code (shown on the page). */
  stepUpAbove: string;
}

const PURPOSE = 'holder:totp';
const CODE = 'Enter the 6-digit code your authenticator app shows.';

const confirmInput = z.strictObject({
  enrol_token: z.string({ error: 'Start the set-up first.' }).regex(/^[A-Za-z0-9_-]{32}$/, 'Start the set-up first.'),
  code: z
    .string({ error: CODE })
    .max(20, CODE)
    .transform((s) => s.replace(/\s/g, ''))
    .refine((s) => /^\d{6}$/.test(s), CODE),
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

  async function begin(ctx: Context) {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    const card = await findCard(sf.db, cardId);
    return startEnrolment(sf, { accountId, last4: card?.last4 ?? '••••' }, ctx.state.requestId);
  }

  async function render(ctx: Context, view: string, locals: Record<string, unknown>, status = 200) {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.render(view, { csrf: csrfToken(ctx, PURPOSE), signOutCsrf: signOutCsrf(ctx), stepUpAbove: deps.stepUpAbove, ...locals });
  }

  router.get('/card/security', async function showSecondFactor(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    await render(ctx, 'holder/security', { title: 'Second factor', ...(await status(accountId)), notice: null });
  });

  router.post('/card/security/totp', async function beginEnrolment(ctx) {
    const form = formFields(ctx, ['csrf']);
    checkCsrf(ctx, PURPOSE, form.csrf);
    const e = await begin(ctx);
    await render(ctx, 'holder/totp-enrol', { title: 'Set up an authenticator app', uri: e.uri, secret: e.base32, token: e.token, error: null, fields: {} });
  });

  router.post('/card/security/totp/confirm', async function confirmByForm(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    let raw: Record<string, string>;
    try {
      raw = formFields(ctx, ['csrf', 'enrol_token', 'code']);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return render(ctx, 'holder/totp-enrol', { title: 'Set up an authenticator app', uri: null, secret: null, token: '', error: err.message, fields: err.fields ?? {} }, 400);
    }
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const { csrf: _csrf, ...rest } = raw;
    const parsed = confirmInput.safeParse(rest);
    const again = (status: number, error: string, fields: Record<string, string>) =>
      render(ctx, 'holder/totp-enrol', { title: 'Set up an authenticator app', uri: null, secret: null, token: raw.enrol_token ?? '', error, fields }, status);
    if (!parsed.success) return again(400, 'Some fields need attention.', fieldErrors(parsed.error));
    try {
      await confirmEnrolment(sf, { accountId, token: parsed.data.enrol_token, code: parsed.data.code, requestId: ctx.state.requestId });
    } catch (err) {
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
    const { accountId } = ctx.state.holder as HolderState;
    const input = parseWith(confirmInput, jsonBody(ctx));
    await confirmEnrolment(sf, { accountId, token: input.enrol_token, code: input.code, requestId: ctx.state.requestId });
    ctx.body = { status: 'enrolled' };
  });

  return router;
}
