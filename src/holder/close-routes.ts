import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { closeByHolder } from '../cards/close-by-holder.ts';
import type { CardDeps } from '../cards/deps.ts';
import { passwordField } from '../cards/input-fields.ts';
import { findCard } from '../db/cards.ts';
import { wardSummaries } from '../db/wards.ts';
import { NotFoundError } from '../errors.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import type { DelinquencyPolicy } from '../ledger/deps.ts';
import { holderAccount } from '../ledger/holder-account.ts';
import { formatMoney, money } from '../lib/money.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { holderNav, withHolderPassword, type HolderState } from './session.ts';

export interface CloseRouteDeps {
  parseBody: Middleware;
  requireHolder: Middleware;
  render: Renderer;
  cards: Pick<CardDeps, 'db' | 'hasher'>;
  /** The password typed again counts like every password proof: source throttle and card lockout. */
  throttle: ThrottleDeps;
  delinquency: DelinquencyPolicy;
}

const CONFIRM = 'Tick the box to confirm you want this card closed for good.';

/** POST /api/holder/close: the password and `"confirm": true`, nothing else. */
export const closeApiInput = z.strictObject({
  password: passwordField,
  confirm: z.literal(true, { error: 'Send "confirm": true to close the card for good.' }),
});

const closeFormInput = z.object({
  password: passwordField,
  confirm: z.literal('yes', { error: CONFIRM }),
});

const FORM: Omit<FormPage<typeof closeFormInput>, 'locals'> = {
  view: 'holder/close',
  title: 'Close your card',
  purpose: 'holder:close',
  fields: ['password', 'confirm'],
  keep: ['confirm'],
  schema: closeFormInput,
  onlyItsFields: 'This form takes only your password and the confirmation.',
};

/**
 * The holder closes their own card for good (/card/close, POST /api/holder/close), with the card password again and
 * an explicit confirmation. The page first says what closing means for this account: what is owed stays due, what is
 * still held may still be charged, a guardian's children's cards stop paying; and that a stolen card is blocked
 * instead (/card/lost), which keeps the account. The rules are cards/close-by-holder.ts's.
 */
export function closeRoutes(deps: CloseRouteDeps): Router {
  const router = new Router();
  router.use(['/card/close', '/api/holder/close'], deps.parseBody, deps.requireHolder);
  const { show, submit } = formPages(deps.render);
  const { db } = deps.cards;

  async function form(ctx: Context): Promise<FormPage<typeof closeFormInput>> {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    const card = await findCard(db, cardId);
    if (!card) throw new NotFoundError('There is no such card.');
    const view = await holderAccount(db, accountId, deps.delinquency);
    const wards = (await wardSummaries(db, accountId, deps.delinquency.timeZone)).filter((w) => w.card?.status === 'active');
    return {
      ...FORM,
      locals: {
        nav: await holderNav(ctx, db, { hasWards: wards.length > 0 }),
        last4: card.last4,
        owed: view.balance > 0 ? money(view.balance, view.currency) : null,
        paymentReference: view.payment_reference,
        holds: { count: view.open_holds.length, amount: money(view.held, view.currency) },
        wards: wards.map((w) => w.legalName),
      },
    };
  }

  function close(ctx: Context, password: string) {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    return withHolderPassword(ctx, { throttle: deps.throttle, db }, () => closeByHolder(deps.cards, { accountId, cardId, password, requestId: ctx.state.requestId }));
  }

  router.get('/card/close', async function showClose(ctx) {
    await show(ctx, await form(ctx));
  });

  router.post('/card/close', async function closeByForm(ctx) {
    // The page is read before the close: afterwards the session (and so the account's figures) is gone.
    const page = await form(ctx);
    await submit(ctx, page, async (input) => {
      const { last4 } = await close(ctx, input.password);
      ctx.type = 'html';
      ctx.body = await deps.render('holder/closed', { title: 'Card closed', last4, owed: page.locals?.owed ?? null, paymentReference: page.locals?.paymentReference });
    });
  });

  router.post('/api/holder/close', async function closeByApi(ctx) {
    const input = parseWith(closeApiInput, jsonBody(ctx));
    const { last4 } = await close(ctx, input.password);
    ctx.body = { status: 'closed', last4 };
  });

  return router;
}
