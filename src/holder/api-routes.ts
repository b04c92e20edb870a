import Router from '@koa/router';
import { attemptSource } from '../http/device-cookie.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { guardCode, guardCodeRequest, guardProof } from '../throttles/guard-proof.ts';
import type { Context, Middleware } from 'koa';
import { changePassword } from '../cards/change-password.ts';
import type { CardDeps } from '../cards/deps.ts';
import type { CodePurpose, CodeSettings } from '../cards/one-time-code.ts';
import { reissueByHolder } from '../cards/reissue-by-holder.ts';
import { reportLostByHolder } from '../cards/report-lost-by-holder.ts';
import { requestCode } from '../cards/request-code.ts';
import { resetPassword } from '../cards/reset-password.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import {
  changePasswordApiInput,
  codeRequestInput,
  lostApiInput,
  resetPasswordApiInput,
  withCodeInput,
} from './inputs.ts';

export interface HolderApiDeps {
  parseBody: Middleware;
  cards: CardDeps & { codes: CodeSettings };
  /** Password proofs here count against the same throttle and lockout as the login page. */
  throttle: ThrottleDeps;
}

const CODE_SENT = {
  status: 'accepted',
  message: 'If this card can receive codes, one is on its way to the registered email address or mobile number.',
};

const CODE_ROUTES: ReadonlyArray<[string, CodePurpose]> = [
  ['/lost/code', 'lost_card'],
  ['/reissue/code', 'reissue'],
  ['/password/reset/code', 'password_reset'],
];

/** The card holder's JSON API: report lost, reissue, change and reset the password, ask for codes. */
export function holderApiRoutes({ parseBody, cards, throttle }: HolderApiDeps): Router {
  const router = new Router({ prefix: '/api/cards' });
  router.use(parseBody);
  router.use(async function noStore(ctx: Context, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  for (const [path, purpose] of CODE_ROUTES) {
    router.post(path, async function sendCode(ctx) {
      const input = parseWith(codeRequestInput, jsonBody(ctx));
      const source = attemptSource(ctx);
      await guardCodeRequest(throttle, source, () => requestCode(cards, { cardNumber: input.card_number, purpose, deviceId: source.deviceId, requestId: source.requestId }));
      ctx.status = 202;
      ctx.body = CODE_SENT;
    });
  }

  router.post('/lost', async function reportCardLost(ctx) {
    const input = parseWith(lostApiInput, jsonBody(ctx));
    const source = attemptSource(ctx);
    const proof =
      input.password !== undefined
        ? { cardNumber: input.card_number, password: input.password }
        : { cardNumber: input.card_number, code: input.code ?? '', deviceId: source.deviceId };
    const lost =
      'password' in proof
        ? await guardProof(throttle, { source, cardNumber: proof.cardNumber }, () => reportLostByHolder(cards, proof, ctx.state.requestId))
        : await guardCode(throttle, source, () => reportLostByHolder(cards, proof, ctx.state.requestId));
    ctx.body = { status: 'lost', last4: lost.last4 };
  });

  router.post('/reissue', async function reissueCard(ctx) {
    const input = parseWith(withCodeInput, jsonBody(ctx));
    const source = attemptSource(ctx);
    const issued = await guardCode(throttle, source, () =>
      reissueByHolder(cards, { cardNumber: input.card_number, code: input.code, deviceId: source.deviceId }, ctx.state.requestId),
    );
    ctx.status = 201;
    ctx.body = { card_number: issued.cardNumber, password: issued.password, last4: issued.cardNumber.slice(-4) };
  });

  router.post('/password', async function changeCardPassword(ctx) {
    const input = parseWith(changePasswordApiInput, jsonBody(ctx));
    await guardProof(throttle, { source: attemptSource(ctx), cardNumber: input.card_number }, () =>
      changePassword(cards, {
        cardNumber: input.card_number,
        currentPassword: input.password,
        newPassword: input.new_password,
        requestId: ctx.state.requestId,
      }),
    );
    ctx.body = { status: 'changed' };
  });

  router.post('/password/reset', async function resetCardPassword(ctx) {
    const input = parseWith(resetPasswordApiInput, jsonBody(ctx));
    const source = attemptSource(ctx);
    await guardCode(throttle, source, () =>
      resetPassword(cards, { cardNumber: input.card_number, code: input.code, newPassword: input.new_password, deviceId: source.deviceId, requestId: ctx.state.requestId }),
    );
    ctx.body = { status: 'reset' };
  });

  return router;
}
