import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { blockCard } from '../cards/block.ts';
import type { CardDeps } from '../cards/deps.ts';
import { findCards } from '../cards/find-cards.ts';
import type { HolderView } from '../cards/holder-view.ts';
import { cardNumberField } from '../cards/input-fields.ts';
import { showCard } from '../cards/show-card.ts';
import { unblockCard } from '../cards/unblock.ts';
import { AppError } from '../errors.ts';
import { readForm } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors } from '../http/validate.ts';
import { cardChangeInput } from './card-inputs.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { consoleNav, doneNotice, inEnglish } from './console-session.ts';
import { presentHolder } from './present-card.ts';

export interface ConsoleCardDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  cards: CardDeps;
  render: Renderer;
  mobileCallingCode: string;
}

const PURPOSE = 'admin:cards';
const NO_SUCH_CARD = 'There is no such card.';

const DONE: Record<string, string> = {
  blocked: 'Blocked: the card cannot log in or pay, its sessions are ended, and the holder has been told.',
  unblocked: 'Unblocked: the card can log in and pay again.',
  unchanged: 'The card was so already: nothing changed.',
};

const searchInput = z.object({ number: cardNumberField });

interface Shown {
  status?: number;
  /** The holder found, with every card of the account; null: the search form alone. */
  holder?: ReturnType<typeof presentHolder> | null;
  error?: string | null;
  fields?: Record<string, string>;
  /** The card and form (block or unblock) a refusal is about; its reason is refilled. */
  refusal?: { cardId: string; action: 'block' | 'unblock'; reason: string } | null;
  notice?: string | null;
  searched?: boolean;
  /** The number a refused search is refilled with (the page is no-store; it is never in a URL). */
  number?: string;
}

/**
 * Cards in the operator console (/admin/cards): find a card by its number, posted in a form (never in a URL, as the
 * API's POST /admin/api/cards/search, looked up by its HMAC), see the holder and the account's cards, and block or
 * unblock one with a reason through the API's blockCard and unblockCard, audited as the operator signed in.
 */
export function consoleCardRoutes(deps: ConsoleCardDeps): Router {
  const router = new Router({ prefix: '/admin/cards' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);

  async function page(ctx: Context, s: Shown): Promise<void> {
    ctx.status = s.status ?? 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.render('admin/cards', {
      title: 'Cards',
      wide: true,
      nav: consoleNav(ctx),
      csrf: csrfToken(ctx, PURPOSE),
      holder: s.holder ?? null,
      searched: s.searched ?? false,
      error: s.error ?? null,
      fields: s.fields ?? {},
      refusal: s.refusal ?? null,
      notice: s.notice ?? null,
      number: s.number ?? '',
    });
  }

  router.get('/', async function showCardSearch(ctx) {
    await page(ctx, {});
  });

  // The number is in the body only; the answer is a page, not a redirect to a URL that would have to carry it.
  router.post('/search', async function findCardByNumber(ctx) {
    const { values: raw, refused } = readForm(ctx, ['csrf', 'number']);
    if (refused) return page(ctx, { status: 400, error: refused.message, fields: refused.fields ?? {} });
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const number = raw.number ?? '';
    const parsed = searchInput.safeParse({ number });
    if (!parsed.success) return page(ctx, { status: 400, error: 'Some fields need attention.', fields: fieldErrors(parsed.error), number });
    const [found] = await findCards({ ...deps.cards, mobileCallingCode: deps.mobileCallingCode }, { number: parsed.data.number });
    if (!found) return page(ctx, { status: 404, error: 'No card has this number.', fields: { number: 'No card has this number.' }, number });
    await page(ctx, { holder: presentHolder(found), searched: true });
  });

  /** The holder of a card by its id (where a decision sends the browser back to). */
  async function holderOf(cardId: string): Promise<HolderView | undefined> {
    if (!z.uuid().safeParse(cardId).success) return undefined;
    try {
      return await showCard(deps.cards.db, cardId);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return undefined;
      throw err;
    }
  }

  router.get('/:cardId', async function showCardsHolder(ctx) {
    const holder = await holderOf(ctx.params.cardId!);
    if (!holder) return page(ctx, { status: 404, error: NO_SUCH_CARD });
    const done = doneNotice(DONE, ctx.query.done);
    await page(ctx, { holder: presentHolder(holder), notice: done ?? null });
  });

  router.post('/:cardId/:action', async function changeCardFromConsole(ctx) {
    const action = ctx.params.action;
    if (action !== 'block' && action !== 'unblock') return; // any other path: 404
    const cardId = ctx.params.cardId!;
    const { values: raw, refused } = readForm(ctx, ['csrf', 'reason']);
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const holder = await holderOf(cardId);
    if (!holder) return page(ctx, { status: 404, error: NO_SUCH_CARD });
    const refuse = (status: number, error: string, fields: Record<string, string>) =>
      page(ctx, { status, holder: presentHolder(holder), error, fields, refusal: { cardId, action, reason: raw.reason ?? '' } });
    if (refused) return refuse(400, refused.message, refused.fields ?? {});
    const parsed = cardChangeInput.safeParse({ card_id: cardId, reason: raw.reason ?? '' });
    if (!parsed.success) return refuse(400, 'Some fields need attention.', fieldErrors(parsed.error));
    try {
      const act = action === 'block' ? blockCard : unblockCard;
      const { changed } = await act(deps.cards.db, { cardId, reason: parsed.data.reason, actor: String(ctx.state.actor), requestId: ctx.state.requestId });
      ctx.status = 303;
      ctx.redirect(`/admin/cards/${cardId}?done=${changed ? `${action}ed` : 'unchanged'}`);
    } catch (err) {
      const refusal = shownRefusal(ctx, err, 'console form refused');
      return refuse(refusal.status, refusal.message, refusal.fields ?? {});
    }
  });

  return router;
}
