import Router from '@koa/router';
import type { GuardianStandingPolicy } from '../cards/guardian-overdue.ts';
import type { Context, Middleware } from 'koa';
import { decide } from '../cards/decide-application.ts';
import { listApplications, showApplication } from '../cards/list-applications.ts';
import { reviewFindings } from '../cards/review-findings.ts';
import type { DenyList } from '../cards/deny-list.ts';
import type { Db } from '../db/knex.ts';
import { jsonBody } from '../http/validate.ts';
import { applicationIdParam, applicationListInput, approveInput, rejectInput } from './application-inputs.ts';
import { parseInput } from './operator-input.ts';
import { presentApplication } from './present-application.ts';
import { requireOperator, type OperatorCredentials } from './require-operator.ts';

export interface AdminApplicationDeps {
  parseBody: Middleware;
  db: Db;
  operatorAuth: OperatorCredentials;
  /** config.cards.duplicates, for the approval's re-check. */
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

/**
 * The operator API for the review queue: list applications (the queue by default), show one, approve
 * or reject one with a reason. A decision activates or closes the pending card and notifies the applicant.
 */
export function adminApplicationRoutes({ parseBody, db, operatorAuth, duplicates, maxWardsPerGuardian, denyList, denyListAction, delinquency }: AdminApplicationDeps): Router {
  const router = new Router({ prefix: '/admin/api/applications' });
  router.use(requireOperator(operatorAuth));
  router.use(parseBody);
  router.use(async function noStore(ctx: Context, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  const actor = (ctx: Context): string => String(ctx.state.actor ?? 'operator');

  router.get('/', async function listQueue(ctx) {
    const q = parseInput(applicationListInput, ctx.query);
    ctx.body = { applications: (await listApplications(db, q)).map(presentApplication) };
  });

  router.get('/:applicationId', async function showOneApplication(ctx) {
    const { application_id: applicationId } = parseInput(applicationIdParam, { application_id: ctx.params.applicationId });
    const app = await showApplication(db, applicationId);
    // In review: what the checks find now, beside why it was sent there (the console's queue shows the same).
    ctx.body = { ...presentApplication(app), ...(app.status === 'review' ? { findings: await reviewFindings(db, app, { maxWardsPerGuardian, denyList, delinquency }) } : {}) };
  });

  router.post('/:applicationId/approve', async function approveApplication(ctx) {
    // The reason is optional here, so an approval may come without any body at all.
    const body = ctx.request.type ? jsonBody(ctx) : {};
    const input = parseInput(approveInput, { ...body, application_id: ctx.params.applicationId });
    const decided = await decide(
      { db, duplicates, maxWardsPerGuardian, denyList, denyListAction, delinquency },
      { applicationId: input.application_id, reason: input.reason, acceptDuplicate: input.accept_duplicate, decision: 'approve', actor: actor(ctx), requestId: ctx.state.requestId },
    );
    ctx.body = { ...presentApplication(decided.application), changed: decided.changed };
  });

  router.post('/:applicationId/reject', async function rejectApplication(ctx) {
    const input = parseInput(rejectInput, { ...jsonBody(ctx), application_id: ctx.params.applicationId });
    const decided = await decide(
      { db, duplicates, maxWardsPerGuardian, denyList, denyListAction, delinquency },
      { applicationId: input.application_id, reason: input.reason, decision: 'reject', actor: actor(ctx), requestId: ctx.state.requestId },
    );
    ctx.body = { ...presentApplication(decided.application), changed: decided.changed };
  });

  return router;
}
