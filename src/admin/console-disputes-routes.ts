import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { decideDispute, NO_SUCH_DISPUTE } from '../approvals/decide-dispute.ts';
import type { DisputeDeps } from '../approvals/open-dispute.ts';
import { presentDisputeToOperator } from '../approvals/present-dispute.ts';
import { findDispute, listDisputes } from '../db/disputes.ts';
import { readForm } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors } from '../http/validate.ts';
import { formatMoney, MAX_AMOUNT, parseTypedAmount, wholeAmounts } from '../lib/money.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { doneNotice, inEnglish, sendConsolePage } from './console-session.ts';
import { disputeDecisionInput } from './dispute-inputs.ts';

export interface ConsoleDisputeDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  disputes: DisputeDeps;
  render: Renderer;
}

const PURPOSE = 'admin:disputes';
const QUEUE_LIMIT = 100;

const DONE: Record<string, string> = {
  refunded: 'Refunded: the money is back on the holder’s account, any hold released, and the holder has been told.',
  rejected: 'Rejected: nothing moved, and the holder has been told why.',
};

/** The holder's reason, in the operator's words. */
const REASONS: Record<string, string> = {
  not_mine: 'Did not make this payment',
  not_received: 'Paid but did not get it',
  wrong_amount: 'The amount is wrong',
  other: 'Something else',
};

const disputeId = z.uuid();

/** The page's words for a bad refund amount: in the payment's money, as the pages show it, never "minor units". */
function amountMessage(currency: string): string {
  const [least, most] = [formatMoney(1, currency), formatMoney(MAX_AMOUNT, currency)];
  const amount = wholeAmounts(currency) ? 'a whole amount' : 'an amount';
  return `Enter ${amount} from ${least} to ${most}, or leave it empty to refund everything charged and not refunded yet.`;
}

interface Refusal {
  status: number;
  id: string;
  action: 'refund' | 'reject';
  error: string;
  fields: Record<string, string>;
  values: Record<string, string>;
}

/**
 * Holders' reports of payments in the operator console (/admin/disputes): the open ones, as GET /admin/api/disputes
 * lists them, each with refund (all of it, or an amount typed in the payment's currency as the holder pages take
 * amounts, and an optional note) and reject (a note, which the holder is told), through decideDispute as the API.
 */
export function consoleDisputeRoutes(deps: ConsoleDisputeDeps): Router {
  const router = new Router({ prefix: '/admin/disputes' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);

  async function page(ctx: Context, opts: { refusal?: Refusal; notice?: string } = {}): Promise<void> {
    const disputes = (await listDisputes(deps.disputes.db, { status: 'open', limit: QUEUE_LIMIT })).map(presentDisputeToOperator);
    const r = opts.refusal;
    await sendConsolePage(ctx, deps.render, 'admin/disputes', {
      title: 'Reports of payments',
      csrf: csrfToken(ctx, PURPOSE),
      disputes,
      limit: QUEUE_LIMIT,
      reasons: REASONS,
      money: formatMoney,
      refusal: r ?? null,
      notice: opts.notice ?? null,
    }, r?.status);
  }

  router.get('/', async function showDisputeQueue(ctx) {
    const done = doneNotice(DONE, ctx.query.done);
    await page(ctx, done ? { notice: done } : {});
  });

  router.post('/:disputeId/:action', async function decideDisputeFromConsole(ctx) {
    const action = ctx.params.action;
    if (action !== 'refund' && action !== 'reject') return; // any other path: 404
    const id = ctx.params.disputeId!;
    const refuse = (status: number, error: string, fields: Record<string, string>, values: Record<string, string>) =>
      page(ctx, { refusal: { status, id, action, error, fields, values } });

    const names = action === 'refund' ? ['csrf', 'amount', 'note'] : ['csrf', 'note'];
    const { values: raw, refused } = readForm(ctx, names);
    if (refused) return refuse(400, refused.message, refused.fields ?? {}, { amount: raw.amount ?? '', note: raw.note ?? '' });
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const values = { amount: raw.amount ?? '', note: raw.note ?? '' };

    const found = disputeId.safeParse(id).success ? await findDispute(deps.disputes.db, id) : undefined;
    if (!found) return refuse(404, NO_SUCH_DISPUTE, {}, values);
    const typed = (raw.amount ?? '').trim();
    let amount: number | undefined;
    if (action === 'refund' && typed !== '') {
      amount = parseTypedAmount(typed, found.currency);
      if (!amount) return refuse(400, 'Some fields need attention.', { amount: amountMessage(found.currency) }, values);
    }
    const note = raw.note?.trim() ? raw.note : undefined;
    const parsed = disputeDecisionInput.safeParse({ decision: action, ...(amount !== undefined ? { amount } : {}), ...(note !== undefined ? { note } : {}) });
    if (!parsed.success) return refuse(400, 'Some fields need attention.', fieldErrors(parsed.error), values);
    try {
      const decided = await decideDispute(deps.disputes, {
        disputeId: id,
        decision: parsed.data.decision,
        amount: parsed.data.amount,
        note: parsed.data.note || null,
        actor: String(ctx.state.actor),
        requestId: ctx.state.requestId,
      });
      ctx.status = 303;
      ctx.redirect(`/admin/disputes?done=${decided.status}`);
    } catch (err) {
      const refusal = shownRefusal(ctx, err, 'console form refused');
      // The decision's own amount messages speak of minor units (the API's): the page's says it in the payment's money.
      const fields = refusal.fields?.amount ? { ...refusal.fields, amount: amountMessage(found.currency) } : (refusal.fields ?? {});
      return refuse(refusal.status, refusal.message, fields, values);
    }
  });

  return router;
}
