import Router from '@koa/router';
import { attemptSource } from '../http/device-cookie.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { guardCode, guardCodeRequest, guardProof } from '../throttles/guard-proof.ts';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import { formatCardNumber } from '../cards/card-number.ts';
import { changePassword } from '../cards/change-password.ts';
import type { CardDeps } from '../cards/deps.ts';
import { codeMinutes, type CodePurpose, type CodeSettings } from '../cards/one-time-code.ts';
import { reissueByHolder } from '../cards/reissue-by-holder.ts';
import { reportLostByHolder } from '../cards/report-lost-by-holder.ts';
import { requestCode } from '../cards/request-code.ts';
import { resetPassword } from '../cards/reset-password.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { contentSecurityPolicy } from '../http/security-headers.ts';
import { randomToken } from '../lib/ids.ts';
import {
  changePasswordFormInput,
  codeRequestInput,
  lostWithPasswordInput,
  resetPasswordFormInput,
  withCodeInput,
} from './inputs.ts';

export interface HolderPageDeps {
  parseBody: Middleware;
  cards: CardDeps & { codes: CodeSettings };
  render: Renderer;
  /** Password proofs here count against the same throttle and lockout as the login page. */
  throttle: ThrottleDeps;
}

const KEEP = ['card_number'] as const;
// A new password ends the holder's sessions too: the page after it links to the sign-in rather than ending the way.
const SIGN_IN = { href: '/card/signin', label: 'Sign in to your card' };
const CODE_SENT = 'If this card can receive codes, we sent one to the registered email address or mobile number.';

interface FlowText {
  heading: string;
  intro: string;
  button: string;
}

/** A code flow: the page asking for a code, and the page taking it (with `enterSchema`'s fields). */
function codeFlow<S extends z.ZodType>(base: string, purpose: CodePurpose, text: FlowText, enterSchema: S, enterFields: readonly string[]) {
  const ask: FormPage<typeof codeRequestInput> = {
    view: 'cards/request-code',
    title: text.heading,
    purpose: `card:${purpose}:ask`,
    fields: ['card_number'],
    keep: KEEP,
    schema: codeRequestInput,
    locals: { heading: text.heading, intro: text.intro, action: `${base}/code` },
  };
  const enter: FormPage<S> = {
    view: 'cards/enter-code',
    title: text.heading,
    purpose: `card:${purpose}:enter`,
    fields: enterFields,
    keep: KEEP,
    schema: enterSchema,
    locals: {
      heading: text.heading,
      action: `${base}/confirm`,
      button: text.button,
      newPassword: enterFields.includes('new_password'),
      again: `${base}/code`,
    },
  };
  return { base, purpose, ask, enter };
}

const LOST: FormPage<typeof lostWithPasswordInput> = {
  view: 'cards/lost',
  title: 'Report my card lost',
  purpose: 'card:lost',
  fields: ['card_number', 'password'],
  keep: KEEP,
  schema: lostWithPasswordInput,
};

const PASSWORD: FormPage<typeof changePasswordFormInput> = {
  view: 'cards/password',
  title: 'Change my card password',
  purpose: 'card:password',
  fields: ['card_number', 'password', 'new_password', 'new_password_confirm'],
  keep: KEEP,
  schema: changePasswordFormInput,
};

const LOST_BY_CODE_FLOW = codeFlow(
  '/card/lost',
  'lost_card',
  {
    heading: 'Block my card with a code',
    intro: 'We send a code to the email address or mobile number you registered; entering it blocks the card.',
    button: 'Block my card',
  },
  withCodeInput,
  ['card_number', 'code'],
);
const REISSUE_FLOW = codeFlow(
  '/card/reissue',
  'reissue',
  {
    heading: 'Get a new card number',
    intro:
      'We send a code to the email address or mobile number you registered. With it you get a new number and password; your limit, balance and history stay.',
    button: 'Give me a new card',
  },
  withCodeInput,
  ['card_number', 'code'],
);
const RESET_FLOW = codeFlow(
  '/card/password/reset',
  'password_reset',
  {
    heading: 'Reset my card password',
    intro: 'We send a code to the email address or mobile number you registered; with it you choose a new password.',
    button: 'Set the new password',
  },
  resetPasswordFormInput,
  ['card_number', 'code', 'new_password', 'new_password_confirm'],
);

/** The card holder's hosted pages: report lost, reissue, change and reset the password. */
export function holderPageRoutes({ parseBody, cards, render, throttle }: HolderPageDeps): Router {
  const router = new Router({ prefix: '/card' });
  router.use(parseBody);
  const { show, submit } = formPages(render);
  // The code pages say how long a code lives, as the message that carries it does.
  const minutes = codeMinutes(cards.codes);
  const timed = <F extends { enter: FormPage }>(flow: F): F => ({ ...flow, enter: { ...flow.enter, locals: { ...flow.enter.locals, minutes } } });
  const LOST_BY_CODE = timed(LOST_BY_CODE_FLOW);
  const REISSUE = timed(REISSUE_FLOW);
  const RESET = timed(RESET_FLOW);

  async function done(ctx: Context, heading: string, message: string, next?: { href: string; label: string }) {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await render('cards/done', { title: heading, heading, message, next: next ?? null });
  }

  /** GET <base>/code shows the page asking for a code; POST sends it and shows the page taking it. */
  function routeCodeRequest(flow: { base: string; purpose: CodePurpose; ask: FormPage<typeof codeRequestInput>; enter: FormPage }) {
    const path = `${flow.base.replace(/^\/card/, '')}/code`;
    router.get(path, (ctx) => show(ctx, flow.ask));
    router.post(path, (ctx) =>
      submit(ctx, flow.ask, async (input) => {
        const source = attemptSource(ctx);
        await guardCodeRequest(throttle, source, () =>
          requestCode(cards, { cardNumber: input.card_number, purpose: flow.purpose, deviceId: source.deviceId, requestId: source.requestId }),
        );
        await show(ctx, flow.enter, { values: { card_number: formatCardNumber(input.card_number) }, notice: CODE_SENT });
      }),
    );
  }

  router.get('/lost', (ctx) => show(ctx, LOST));
  router.post('/lost', (ctx) =>
    submit(ctx, LOST, async (input) => {
      const lost = await guardProof(throttle, { source: attemptSource(ctx), cardNumber: input.card_number }, () =>
        reportLostByHolder(cards, { cardNumber: input.card_number, password: input.password }, ctx.state.requestId),
      );
      await done(ctx, 'Your card is blocked', `The card ending in ${lost.last4} is blocked and every member site has been signed out.`, {
        href: '/card/reissue',
        label: 'Get a new card number',
      });
    }),
  );
  routeCodeRequest(LOST_BY_CODE);
  router.post('/lost/confirm', (ctx) =>
    submit(ctx, LOST_BY_CODE.enter, async (input) => {
      const source = attemptSource(ctx);
      const lost = await guardCode(throttle, source, () =>
        reportLostByHolder(cards, { cardNumber: input.card_number, code: input.code, deviceId: source.deviceId }, ctx.state.requestId),
      );
      await done(ctx, 'Your card is blocked', `The card ending in ${lost.last4} is blocked and every member site has been signed out.`, {
        href: '/card/reissue',
        label: 'Get a new card number',
      });
    }),
  );

  router.get('/reissue', (ctx) => show(ctx, REISSUE.ask));
  routeCodeRequest(REISSUE);
  router.post('/reissue/confirm', (ctx) =>
    submit(ctx, REISSUE.enter, async (input) => {
      const source = attemptSource(ctx);
      const issued = await guardCode(throttle, source, () =>
        reissueByHolder(cards, { cardNumber: input.card_number, code: input.code, deviceId: source.deviceId }, ctx.state.requestId),
      );
      // The page's one script, its copy buttons, runs under a nonce of its own.
      const nonce = randomToken(16);
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Security-Policy', contentSecurityPolicy(nonce));
      ctx.body = await render('cards/reissued', {
        title: 'Your new card',
        cardNumber: formatCardNumber(issued.cardNumber),
        password: issued.password,
        oldLast4: input.card_number.slice(-4),
        nonce,
      });
    }),
  );

  router.get('/password', (ctx) => show(ctx, PASSWORD));
  router.post('/password', (ctx) =>
    submit(ctx, PASSWORD, async (input) => {
      await guardProof(throttle, { source: attemptSource(ctx), cardNumber: input.card_number }, () =>
        changePassword(cards, {
          cardNumber: input.card_number,
          currentPassword: input.password,
          newPassword: input.new_password,
          requestId: ctx.state.requestId,
        }),
      );
      await done(ctx, 'Password changed', 'Your card password has been changed, and every member site has been signed out. Log in with the new one.', SIGN_IN);
    }),
  );

  router.get('/password/reset', (ctx) => show(ctx, RESET.ask));
  routeCodeRequest(RESET);
  router.post('/password/reset/confirm', (ctx) =>
    submit(ctx, RESET.enter, async (input) => {
      const source = attemptSource(ctx);
      const card = await guardCode(throttle, source, () =>
        resetPassword(cards, { cardNumber: input.card_number, code: input.code, newPassword: input.new_password, deviceId: source.deviceId, requestId: ctx.state.requestId }),
      );
      // A former holder's closed card (cards/former-holder.ts) opens only the pages of what is owed: no member site to log in to.
      if (card.status === 'closed') {
        await done(ctx, 'Password reset', 'Your card password has been reset. The card stays closed: sign in with the new password to see and pay what you owe.', {
          href: '/card/signin',
          label: 'Sign in',
        });
        return;
      }
      await done(ctx, 'Password reset', 'Your card password has been reset, and every member site has been signed out. Log in with the new one.', SIGN_IN);
    }),
  );

  return router;
}
