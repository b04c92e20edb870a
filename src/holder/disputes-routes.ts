import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { APPROVAL_NO_PATTERN } from '../approvals/approval-number.ts';
import { openDispute, type DisputeDeps } from '../approvals/open-dispute.ts';
import { presentDisputeToHolder } from '../approvals/present-dispute.ts';
import { disputesOfAccount, type DisputeReason, type DisputeWithPayment } from '../db/disputes.ts';
import { FORBIDDEN } from '../http/form.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import { currentLocale } from '../http/locale.ts';
import type { Renderer } from '../http/render.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import { formatLocalTime } from '../lib/local-time.ts';
import { formatMoney } from '../lib/money.ts';
import { holderNav, type HolderState } from './session.ts';

export interface DisputeRouteDeps {
  parseBody: Middleware;
  /** A closed card's holder reports a payment too, as the dispute rules allow. */
  requireHolderOrFormer: Middleware;
  render: Renderer;
  disputes: DisputeDeps;
  /** The time zone the page tells times in (config billing.timeZone). */
  timeZone: string;
}

export const DISPUTE_REASONS = ['not_mine', 'not_received', 'wrong_amount', 'other'] as const satisfies readonly DisputeReason[];

const APPROVAL_NO = 'Enter the approval number as it shows on your account page, like 1234-5678.';
const REASON = 'Choose what is wrong with the payment.';
const DETAILS_LONG = 'At most 1000 characters.';
const DETAILS_NEEDED = 'Say what is wrong with the payment.';

/** The shape every report takes, from the page or the API: details required when no listed reason fits. */
function reportInput<S extends z.ZodRawShape>(shape: S, strict: boolean) {
  const object = strict ? z.strictObject(shape) : z.object(shape);
  return object.superRefine((v, ctx) => {
    const r = v as { reason?: string; details?: string };
    if (r.reason === 'other' && !r.details) ctx.addIssue({ code: 'custom', path: ['details'], message: DETAILS_NEEDED });
  });
}

/** POST /api/holder/disputes: the payment, what is wrong, and (optionally, or for `other`) in the holder's words. */
export const disputeApiInput = reportInput(
  {
    approval_no: z.string({ error: APPROVAL_NO }).regex(APPROVAL_NO_PATTERN, APPROVAL_NO),
    reason: z.enum(DISPUTE_REASONS, { error: REASON }),
    // The same characters the page's form refuses (http/form.ts): the operator reads these words in a terminal too.
    details: z
      .string({ error: 'Send this as text.' })
      .refine((s) => !FORBIDDEN.test(s), 'Contains characters that are not allowed.')
      .trim()
      .max(1000, DETAILS_LONG)
      .default(''),
  },
  true,
);

const disputeFormInput = reportInput(
  {
    approval_no: z.string({ error: APPROVAL_NO }).trim().regex(APPROVAL_NO_PATTERN, APPROVAL_NO),
    reason: z.enum(DISPUTE_REASONS, { error: REASON }),
    details: z.string().trim().max(1000, DETAILS_LONG).default(''),
  },
  false,
);

const FORM: Omit<FormPage<typeof disputeFormInput>, 'locals'> = {
  view: 'holder/disputes',
  title: 'Report a payment',
  purpose: 'holder:disputes',
  fields: ['approval_no', 'reason', 'details'],
  keep: ['approval_no', 'reason', 'details'],
  schema: disputeFormInput,
};

/**
 * The notice after a report: what happens next, and the advice a payment the holder did not make calls for (not to a
 * guardian reporting a child's payment: blocking is the child's card's, which the guardian's pages do not do).
 */
function openedNotice(d: DisputeWithPayment, accountId: string): string {
  return d.reason === 'not_mine' && d.accountId === accountId
    ? 'Your report was received. cybercard will look into it and tell you the outcome. If someone else may know your card number and password, block the card now: you can get a new number at once.'
    : 'Your report was received. cybercard will look into it and tell you the outcome.';
}

/**
 * The holder's reports of payments they do not recognise or did not get (disputes): a page listing them with a
 * form to report another (/card/disputes, the account page links each payment to it) and the same as JSON
 * (GET/POST /api/holder/disputes). The rules are approvals/open-dispute.ts's; the operator decides.
 */
export function disputeRoutes(deps: DisputeRouteDeps): Router {
  const router = new Router();
  router.use(['/card/disputes', '/api/holder/disputes'], deps.parseBody, deps.requireHolderOrFormer);
  const { show, submit } = formPages(deps.render);

  /** The page, and the holder's reports as read for it (a report just sent is among them). */
  async function page(ctx: Context): Promise<FormPage<typeof disputeFormInput> & { found: DisputeWithPayment[] }> {
    const { accountId } = ctx.state.holder as HolderState;
    const found = await disputesOfAccount(deps.disputes.db, accountId, 100);
    return {
      ...FORM,
      found,
      locals: {
        nav: await holderNav(ctx, deps.disputes.db),
        reports: found.map(presentDisputeToHolder),
        timeZone: deps.timeZone,
        windowDays: deps.disputes.windowDays,
        money: (n: number, currency: string) => formatMoney(n, currency, currentLocale()),
        localTime: (iso: string) => formatLocalTime(new Date(iso), deps.timeZone).slice(0, 16),
      },
    };
  }

  function open(ctx: Context, input: z.output<typeof disputeFormInput>): Promise<DisputeWithPayment> {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    return openDispute(deps.disputes, {
      accountId,
      cardId,
      approvalNo: input.approval_no,
      reason: input.reason,
      details: input.details,
      actor: `card:${cardId}`,
      requestId: ctx.state.requestId,
    });
  }

  router.get('/card/disputes', async function showDisputes(ctx) {
    const shown = await page(ctx);
    // The account page's "Report" link names the payment; anything else in the query is not a payment and is left out.
    const asked = typeof ctx.query.approval === 'string' && APPROVAL_NO_PATTERN.test(ctx.query.approval) ? ctx.query.approval : undefined;
    // After a report (the form's answer redirects here, so a reload does not post it again): its notice, if it is one of
    // this holder's; any other value is ignored.
    const reported = typeof ctx.query.reported === 'string' ? shown.found.find((d) => d.id === ctx.query.reported) : undefined;
    const notice = reported && openedNotice(reported, (ctx.state.holder as HolderState).accountId);
    await show(ctx, shown, { ...(asked ? { values: { approval_no: asked } } : {}), ...(notice ? { notice } : {}) });
  });

  router.post('/card/disputes', async function reportByForm(ctx) {
    await submit(ctx, await page(ctx), async (input) => {
      const opened = await open(ctx, input);
      ctx.status = 303;
      ctx.redirect(`/card/disputes?reported=${encodeURIComponent(opened.id)}`);
    });
  });

  router.get('/api/holder/disputes', async function readDisputes(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    ctx.body = { disputes: (await disputesOfAccount(deps.disputes.db, accountId, 100)).map(presentDisputeToHolder) };
  });

  router.post('/api/holder/disputes', async function reportByApi(ctx) {
    const input = parseWith(disputeApiInput, jsonBody(ctx));
    ctx.status = 201;
    ctx.body = presentDisputeToHolder(await open(ctx, input));
  });

  return router;
}
