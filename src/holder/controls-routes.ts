import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { setControls } from '../approvals/set-spending-controls.ts';
import type { CardDeps } from '../cards/deps.ts';
import { passwordField } from '../cards/input-fields.ts';
import { proveSignedInCard } from '../cards/prove-with-password.ts';
import { findAccountFacts } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { listMemberSites } from '../db/member-sites.ts';
import { findSpendingControls, type SpendingControls } from '../db/spending-controls.ts';
import { ValidationError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { formFields } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors, jsonBody, parseWith } from '../http/validate.ts';
import { formatMoney, MAX_AMOUNT, parseTypedAmount, typedAmount, wholeAmounts } from '../lib/money.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { holderNav, withHolderPassword, type HolderState } from './session.ts';

export interface ControlsRouteDeps {
  db: Db;
  parseBody: Middleware;
  requireHolder: Middleware;
  render: Renderer;
  /** The card password a loosening asks for is checked with the cards domain's hasher. */
  cards: Pick<CardDeps, 'db' | 'hasher'>;
  /** That password counts like every password proof: source throttle and card lockout. */
  throttle: ThrottleDeps;
}

const PURPOSE = 'holder:controls';
/** For programs, which send integers in minor units (JSON API). */
const AMOUNT = `A whole number of minor units from 1 to ${MAX_AMOUNT}, or nothing for no limit.`;

const amountOrNull = z.union([z.null(), z.number({ error: AMOUNT }).int(AMOUNT).min(1, AMOUNT).max(MAX_AMOUNT, AMOUNT)], { error: AMOUNT });

/** PUT /api/holder/controls: all four controls, every time, and the card password to loosen them; unknown keys are refused. */
export const controlsApiInput = z.strictObject({
  max_per_approval: amountOrNull,
  monthly_cap: amountOrNull,
  blocked_sites: z.array(z.string().min(1).max(100), { error: 'A list of member site client_ids.' }).max(200, 'At most 200 sites.'),
  adult_content_off: z.boolean({ error: 'true or false.' }),
  password: passwordField.optional(),
});

/** The page's words for a bad amount: in the account's money, formatted as the pages show it, never "minor units". */
function pageAmountMessage(currency: string): string {
  const [least, most] = [formatMoney(1, currency), formatMoney(MAX_AMOUNT, currency)];
  return wholeAmounts(currency)
    ? `Enter a whole amount from ${least} to ${most}, or leave it empty for no limit.`
    : `Enter an amount from ${least} to ${most}, or leave it empty for no limit.`;
}

/** A typed amount: empty for none, else in the currency's own unit as the pages show it (1,000 KRW; 12.50 USD). */
function formAmount(currency: string) {
  return z
    .string()
    .trim()
    .refine((s) => s === '' || (parseTypedAmount(s, currency) ?? 0) >= 1, pageAmountMessage(currency))
    .transform((s) => (s === '' ? null : parseTypedAmount(s, currency)!));
}

/** The page's form, its messages in `currency`. */
function formInputFor(currency: string) {
  return z.object({
    max_per_approval: formAmount(currency).default(null),
    monthly_cap: formAmount(currency).default(null),
    adult_content_off: z.enum(['on'], { error: 'Tick the box or leave it empty.' }).optional(),
    // Empty: none typed (a tightening needs none).
    password: z.union([z.literal('').transform(() => undefined), passwordField]).optional(),
  });
}

function present(c: SpendingControls) {
  return { max_per_approval: c.maxPerApproval, monthly_cap: c.monthlyCap, blocked_sites: c.blockedSites, adult_content_off: c.adultContentOff };
}

/** The holder's spending controls: a hosted page (/card/controls) and a JSON API (/api/holder/controls). */
export function controlsRoutes(deps: ControlsRouteDeps): Router {
  const router = new Router();
  router.use(['/card/controls', '/api/holder/controls'], deps.parseBody, deps.requireHolder);

  async function sitesFor(blocked: readonly string[]) {
    const sites = await listMemberSites(deps.db);
    return sites.filter((s) => s.status !== 'closed' || blocked.includes(s.clientId)).map((s) => ({ clientId: s.clientId, name: s.name }));
  }

  async function page(
    ctx: Context,
    controls: SpendingControls,
    currency: string,
    opts: {
      status?: number;
      error?: string;
      notice?: string;
      fields?: Record<string, string>;
      values?: Record<string, string>;
      /** A refused form's boxes as they were ticked: shown again so, not as saved (which would undo the holder's ticks). */
      ticked?: Pick<SpendingControls, 'adultContentOff' | 'blockedSites'>;
    } = {},
  ) {
    ctx.status = opts.status ?? 200;
    ctx.type = 'html';
    ctx.body = await deps.render('holder/controls', {
      title: 'Spending controls',
      csrf: csrfToken(ctx, PURPOSE),
      nav: await holderNav(ctx, deps.db),
      currency,
      sites: await sitesFor(controls.blockedSites),
      controls: { ...controls, ...opts.ticked },
      values: opts.values ?? {
        max_per_approval: controls.maxPerApproval === null ? '' : typedAmount(controls.maxPerApproval, currency),
        monthly_cap: controls.monthlyCap === null ? '' : typedAmount(controls.monthlyCap, currency),
      },
      fields: opts.fields ?? {},
      error: opts.error ?? null,
      notice: opts.notice ?? null,
    });
  }

  /**
   * Saves the controls; a password typed (needed to loosen them: setControls) is checked first, counted against the
   * source and the card like the login page's, and a wrong one saves nothing.
   */
  async function save(ctx: Context, controls: SpendingControls, password: string | undefined): Promise<SpendingControls> {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    if (password !== undefined) {
      await withHolderPassword(ctx, { throttle: deps.throttle, db: deps.db }, () =>
        proveSignedInCard(deps.cards, { cardId, accountId, password, via: { page: 'spending_controls', requestId: ctx.state.requestId } }),
      );
    }
    return setControls(deps.db, { accountId, actor: `card:${cardId}`, requestId: ctx.state.requestId, reauthenticated: password !== undefined }, controls);
  }

  async function current(ctx: Context): Promise<SpendingControls> {
    const { accountId } = ctx.state.holder as HolderState;
    const c = await findSpendingControls(deps.db, accountId);
    if (!c) throw new ValidationError('No such account.');
    return c;
  }

  /** The holder's controls and the account's currency (the page's amounts and its messages are in it), in one read. */
  async function forPage(ctx: Context): Promise<{ controls: SpendingControls; currency: string }> {
    const { accountId } = ctx.state.holder as HolderState;
    const facts = await findAccountFacts(deps.db, accountId);
    if (!facts) throw new ValidationError('No such account.');
    return { controls: facts.controls, currency: facts.account.currency };
  }

  router.get('/card/controls', async function showControls(ctx) {
    const { controls, currency } = await forPage(ctx);
    await page(ctx, controls, currency);
  });

  router.post('/card/controls', async function saveControls(ctx) {
    const { controls: before, currency } = await forPage(ctx);
    const sites = await sitesFor(before.blockedSites);
    const blockFields = sites.map((s) => `block_${s.clientId}`);
    let raw: Record<string, string>;
    try {
      raw = formFields(ctx, ['csrf', 'max_per_approval', 'monthly_cap', 'adult_content_off', 'password', ...blockFields]);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return page(ctx, before, currency, { status: 400, error: err.message, fields: err.fields ?? {} });
    }
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const values = { max_per_approval: raw.max_per_approval ?? '', monthly_cap: raw.monthly_cap ?? '' };
    const ticked = { adultContentOff: raw.adult_content_off === 'on', blockedSites: sites.filter((s) => raw[`block_${s.clientId}`] === 'on').map((s) => s.clientId) };
    const parsed = formInputFor(currency).safeParse(raw);
    const badBlock = blockFields.find((f) => raw[f] !== undefined && raw[f] !== 'on');
    if (!parsed.success || badBlock) {
      const fields = parsed.success ? {} : fieldErrors(parsed.error);
      if (badBlock) fields.blocked_sites = 'Tick the box or leave it empty.';
      return page(ctx, before, currency, { status: 400, error: 'Some fields need attention.', fields, values, ticked });
    }
    let saved: SpendingControls;
    try {
      saved = await save(
        ctx,
        {
          maxPerApproval: parsed.data.max_per_approval,
          monthlyCap: parsed.data.monthly_cap,
          adultContentOff: parsed.data.adult_content_off === 'on',
          blockedSites: ticked.blockedSites,
        },
        parsed.data.password,
      );
    } catch (err) {
      // A loosening without the password, a wrong one, a throttle: the form again as it was sent, the password left out.
      const refusal = shownRefusal(ctx, err);
      return page(ctx, before, currency, { status: refusal.status, error: refusal.message, fields: refusal.fields ?? {}, values, ticked });
    }
    await page(ctx, saved, currency, { notice: 'Your spending controls are saved. They apply from the next payment or sign-in.' });
  });

  router.get('/api/holder/controls', async function readControls(ctx) {
    ctx.body = present(await current(ctx));
  });

  router.put('/api/holder/controls', async function replaceControls(ctx) {
    const input = parseWith(controlsApiInput, jsonBody(ctx));
    const saved = await save(
      ctx,
      {
        maxPerApproval: input.max_per_approval,
        monthlyCap: input.monthly_cap,
        blockedSites: input.blocked_sites,
        adultContentOff: input.adult_content_off,
      },
      input.password,
    );
    ctx.body = present(saved);
  });

  return router;
}
