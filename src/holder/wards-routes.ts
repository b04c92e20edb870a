import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { CardDeps } from '../cards/deps.ts';
import { passwordField } from '../cards/input-fields.ts';
import { NOT_A_WARD, setWardLimit } from '../cards/set-ward-limit.ts';
import { findAccount } from '../db/cards.ts';
import { NotFoundError } from '../errors.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import { currentLocale } from '../http/locale.ts';
import type { Renderer } from '../http/render.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import type { DelinquencyPolicy } from '../ledger/deps.ts';
import { wardsOverview } from '../ledger/wards-overview.ts';
import { formatMoney, MAX_AMOUNT, money, parseTypedAmount, typedAmount, wholeAmounts } from '../lib/money.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { reportable, type ReportableLine } from './reportable.ts';
import { holderNav, withHolderPassword, type HolderState } from './session.ts';

export interface WardsRouteDeps {
  parseBody: Middleware;
  requireHolder: Middleware;
  render: Renderer;
  /** The guardian's card password is checked with the cards domain's hasher. */
  cards: Pick<CardDeps, 'db' | 'hasher'>;
  /** The password typed again counts like every password proof: source throttle and card lockout. */
  throttle: ThrottleDeps;
  /** The billing time zone (config billing.timeZone): "this month" and the approvals' dates are its. */
  timeZone: string;
  /** When a ward's statement is overdue (and whether it stops the guardian's card), with the billing time zone. */
  delinquency: DelinquencyPolicy;
  /** The most a minor's card may have (config cards.creditLimit.minor): a guardian sets a child's limit up to it. */
  minorCap: number;
  /** How long after its approval a payment may be reported (config payments.disputeDays): a child's payment by the guardian too. */
  disputeDays: number;
}

/** For programs, which send integers in minor units (JSON API). */
const LIMIT = `A whole number of minor units from 0 (payments paused) to ${MAX_AMOUNT}.`;

/** The page's words for a bad limit: in the account's money, formatted as the pages show it, never "minor units". */
function pageLimitMessage(currency: string): string {
  const [least, most] = [formatMoney(0, currency), formatMoney(MAX_AMOUNT, currency)];
  return wholeAmounts(currency) ? `Enter a whole amount from ${least} (payments paused) to ${most}.` : `Enter an amount from ${least} (payments paused) to ${most}.`;
}

/** PUT /api/holder/wards/:accountId/limit: the new limit and the guardian's own card password; unknown keys are refused. */
export const wardLimitApiInput = z.strictObject({
  credit_limit: z.number({ error: LIMIT }).int(LIMIT).min(0, LIMIT).max(MAX_AMOUNT, LIMIT),
  password: passwordField,
});

/** The page's form: a typed limit in the currency's own unit as the pages show it (1,000 KRW; 12.50 USD); messages in `currency`. */
function wardLimitFormInput(currency: string) {
  const formLimit = z
    .string({ error: 'Enter the new limit.' })
    .trim()
    .refine((s) => parseTypedAmount(s, currency) !== undefined, pageLimitMessage(currency))
    .transform((s) => parseTypedAmount(s, currency)!);
  return z.object({ credit_limit: formLimit, password: passwordField });
}
type WardLimitForm = ReturnType<typeof wardLimitFormInput>;

/** An account id as our ids are written (uuid); anything else is no ward of anyone's. */
const accountParam = z.object({ accountId: z.uuid() });

const LIMIT_FORM: Omit<FormPage<WardLimitForm>, 'schema'> = {
  view: 'holder/wards',
  title: "Children's cards",
  purpose: 'holder:wards:limit',
  fields: ['credit_limit', 'password'],
  keep: ['credit_limit'],
};

/**
 * A guardian's view of the cards linked to theirs (minors who applied with the guardian's card): each child's card,
 * limit, available credit, holds, balance, this month's spending and last approvals, as a page (/card/wards) and as
 * JSON (/api/holder/wards, an array, empty for a holder who is nobody's guardian). The guardian sets a child's limit
 * (POST /card/wards/:accountId/limit, PUT /api/holder/wards/:accountId/limit) from 0 to their own, with their card
 * password again; another account, linked or not, is not found.
 */
export function wardsRoutes(deps: WardsRouteDeps): Router {
  const router = new Router();
  router.use(['/card/wards', '/api/holder/wards'], deps.parseBody, deps.requireHolder);
  const { show, submit } = formPages(deps.render);
  const { db } = deps.cards;

  async function page(ctx: Context, target?: string) {
    const { accountId } = ctx.state.holder as HolderState;
    const wards = await wardsOverview(db, accountId, deps.delinquency);
    // The guardian's currency: a child's limit is weighed against the guardian's own, in it.
    const guardian = await findAccount(db, accountId);
    if (!guardian) throw new NotFoundError('There is no such account.');
    const { currency } = guardian;
    const form: FormPage<WardLimitForm> = {
      ...LIMIT_FORM,
      schema: wardLimitFormInput(currency),
      // The page knows its wards already: no second look for the navigation.
      locals: {
        nav: await holderNav(ctx, db, { hasWards: wards.length > 0 }),
        wards,
        target: target ?? null,
        money: (n: number, currency: string) => formatMoney(n, currency, currentLocale()),
        // The approvals' dates are this zone's (the column's name says so, as the account page's does).
        timeZone: deps.timeZone,
        typed: typedAmount,
        // The most the form takes, said beside it (setWardLimit refuses more): the guardian's own limit, or the cap
        // for minors where that is lower, so a guardian with a large limit is not told a figure the form refuses.
        highest: { amount: money(Math.min(guardian.creditLimit, deps.minorCap), currency), capped: deps.minorCap < guardian.creditLimit },
        reportable: (a: ReportableLine) => reportable(a, deps.disputeDays, Date.now()),
      },
    };
    return { form, wards };
  }

  /** The ward named in the path, or not found: the same answer for a malformed id, a stranger's and nobody's. */
  function wardId(ctx: Context): string {
    const parsed = accountParam.safeParse(ctx.params);
    if (!parsed.success) throw new NotFoundError(NOT_A_WARD);
    return parsed.data.accountId;
  }

  /** Sets the limit, the guardian's password proof counted against the source and their card like the login page's. */
  async function setLimit(ctx: Context, wardAccountId: string, input: { credit_limit: number; password: string }) {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    return withHolderPassword(ctx, { throttle: deps.throttle, db }, () =>
      setWardLimit({ ...deps.cards, minorCap: deps.minorCap }, {
        guardianAccountId: accountId,
        guardianCardId: cardId,
        password: input.password,
        wardAccountId,
        creditLimit: input.credit_limit,
        requestId: ctx.state.requestId,
      }),
    );
  }

  router.get('/card/wards', async function showWards(ctx) {
    await show(ctx, (await page(ctx)).form);
  });

  router.get('/api/holder/wards', async function readWards(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    ctx.body = await wardsOverview(db, accountId, deps.delinquency);
  });

  router.post('/card/wards/:accountId/limit', async function setWardLimitByForm(ctx) {
    const target = typeof ctx.params.accountId === 'string' ? ctx.params.accountId : undefined;
    await submit(ctx, (await page(ctx, target)).form, async (input) => {
      const changed = await setLimit(ctx, wardId(ctx), input);
      const after = await page(ctx);
      const name = after.wards.find((w) => w.account_id === changed.accountId)?.legal_name ?? '';
      await show(ctx, after.form, { notice: `The limit of ${name} is now ${formatMoney(changed.to, changed.currency)}.` });
    });
  });

  router.put('/api/holder/wards/:accountId/limit', async function setWardLimitApi(ctx) {
    const ward = wardId(ctx);
    const input = parseWith(wardLimitApiInput, jsonBody(ctx));
    const changed = await setLimit(ctx, ward, input);
    ctx.body = { account_id: changed.accountId, credit_limit: changed.to, previous_credit_limit: changed.from, currency: changed.currency };
  });

  return router;
}
