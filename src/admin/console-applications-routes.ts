import Router from '@koa/router';
import type { GuardianStandingPolicy } from '../cards/guardian-overdue.ts';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { decide } from '../cards/decide-application.ts';
import { listApplications } from '../cards/list-applications.ts';
import type { DenyList } from '../cards/deny-list.ts';
import type { Db } from '../db/knex.ts';
import { readForm } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors } from '../http/validate.ts';
import { FINDINGS, reviewFindingsOfEach } from '../cards/review-findings.ts';
import { approveInput, rejectInput } from './application-inputs.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { doneNotice, inEnglish, sendConsolePage } from './console-session.ts';
import { presentApplication } from './present-application.ts';

export interface ConsoleApplicationDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  db: Db;
  render: Renderer;
  /** config.cards.duplicates: with 'review', an approval may go past a duplicate found again (accept_duplicate). */
  duplicates: 'refuse' | 'review';
  /** config.cards.maxWardsPerGuardian, held again at approval. */
  maxWardsPerGuardian: number;
  /** config.cards.denyList compiled (applicationPolicy): what a check finds now, and held again at approval. */
  denyList: DenyList;
  /** config.cards.denyList.action: whether the match an application was sent to review for may be approved. */
  denyListAction: 'refuse' | 'review';
  /** config.delinquency with billing.timeZone: a guardian stopped by an overdue statement vouches for no one, at approval too. */
  delinquency: GuardianStandingPolicy;
}

const PURPOSE = 'admin:applications';

const QUEUE_LIMIT = 100;

/** What the page says after a decision (the redirect's `done`), read back from the query. */
const DONE: Record<string, string> = {
  approved: 'Approved: the card is active and the applicant has been told.',
  rejected: 'Rejected: the pending card is closed and the applicant has been told why.',
  unchanged: 'That decision had already been made: nothing changed.',
};

interface Refusal {
  status: number;
  /** The application and the form (approve or reject) the refusal is about: its reason is refilled, its fields marked. */
  id: string;
  action: 'approve' | 'reject';
  error: string;
  fields: Record<string, string>;
  values: Record<string, string>;
}

/**
 * The review queue in the operator console (/admin/applications): the applications in review, as GET
 * /admin/api/applications lists them, each with approve and reject through the API's own decide(). A refusal
 * re-renders the queue with the message beside the form it is about, its reason kept, and nothing changed.
 */
export function consoleApplicationRoutes(deps: ConsoleApplicationDeps): Router {
  const router = new Router({ prefix: '/admin/applications' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);

  async function page(ctx: Context, opts: { refusal?: Refusal; notice?: string } = {}): Promise<void> {
    const queue = await listApplications(deps.db, { status: 'review', limit: QUEUE_LIMIT });
    // What the checks find now, beside why each was sent to review: what the approval will weigh.
    const findings = await reviewFindingsOfEach(deps.db, queue, deps);
    const applications = queue.map((a, i) => ({ ...presentApplication(a), findings: findings[i]! }));
    const r = opts.refusal;
    await sendConsolePage(ctx, deps.render, 'admin/applications', {
      title: 'Review queue',
      csrf: csrfToken(ctx, PURPOSE),
      applications,
      limit: QUEUE_LIMIT,
      acceptDuplicates: deps.duplicates === 'review',
      reasons: FINDINGS,
      refusal: r ?? null,
      notice: opts.notice ?? null,
    }, r?.status);
  }

  router.get('/', async function showReviewQueue(ctx) {
    const done = doneNotice(DONE, ctx.query.done);
    await page(ctx, done ? { notice: done } : {});
  });

  router.post('/:applicationId/:action', async function decideFromConsole(ctx) {
    const action = ctx.params.action;
    if (action !== 'approve' && action !== 'reject') return; // any other path: 404
    const id = ctx.params.applicationId!;
    const refuse = (status: number, error: string, fields: Record<string, string>, values: Record<string, string>) =>
      page(ctx, { refusal: { status, id, action, error, fields, values } });

    const { values: raw, refused } = readForm(ctx, ['csrf', 'reason', 'accept_duplicate']);
    if (refused) return refuse(400, refused.message, refused.fields ?? {}, { reason: raw.reason ?? '' });
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const values = { reason: raw.reason ?? '', ...(raw.accept_duplicate !== undefined ? { accept_duplicate: raw.accept_duplicate } : {}) };

    const checkbox = z.enum(['on'], { error: 'Tick the box or leave it empty.' }).optional().safeParse(raw.accept_duplicate);
    if (!checkbox.success || (checkbox.data && (action !== 'approve' || deps.duplicates !== 'review'))) {
      return refuse(400, 'Some fields need attention.', { accept_duplicate: 'Only when approving past a duplicate, as the review queue allows.' }, values);
    }
    const reason = raw.reason?.trim() ? raw.reason : undefined;
    const parsed =
      action === 'approve'
        ? approveInput.safeParse({ application_id: id, ...(reason !== undefined ? { reason } : {}), ...(checkbox.data ? { accept_duplicate: true } : {}) })
        : rejectInput.safeParse({ application_id: id, reason: raw.reason ?? '' });
    if (!parsed.success) {
      const fields = fieldErrors(parsed.error);
      if (fields.application_id) return refuse(404, 'There is no such application.', {}, values);
      return refuse(400, 'Some fields need attention.', fields, values);
    }
    try {
      const decided = await decide(
        { db: deps.db, duplicates: deps.duplicates, maxWardsPerGuardian: deps.maxWardsPerGuardian, denyList: deps.denyList, denyListAction: deps.denyListAction, delinquency: deps.delinquency },
        {
          applicationId: id,
          decision: action,
          reason: parsed.data.reason,
          acceptDuplicate: 'accept_duplicate' in parsed.data ? parsed.data.accept_duplicate : undefined,
          actor: String(ctx.state.actor),
          requestId: ctx.state.requestId,
        },
      );
      ctx.status = 303;
      ctx.redirect(`/admin/applications?done=${decided.changed ? decided.application.status : 'unchanged'}`);
    } catch (err) {
      const refusal = shownRefusal(ctx, err, 'console form refused');
      return refuse(refusal.status, refusal.message, refusal.fields ?? {}, values);
    }
  });

  return router;
}
