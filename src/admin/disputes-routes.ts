import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { decideDispute, NO_SUCH_DISPUTE } from '../approvals/decide-dispute.ts';
import type { DisputeDeps } from '../approvals/open-dispute.ts';
import { presentDisputeToOperator } from '../approvals/present-dispute.ts';
import { findDispute, listDisputes } from '../db/disputes.ts';
import { NotFoundError } from '../errors.ts';
import { jsonBody } from '../http/validate.ts';
import { disputeDecisionInput, disputeIdParam, disputeListQuery } from './dispute-inputs.ts';
import { parseInput } from './operator-input.ts';
import { requireOperator, type OperatorCredentials } from './require-operator.ts';

export interface AdminDisputeDeps {
  parseBody: Middleware;
  disputes: DisputeDeps;
  operatorAuth: OperatorCredentials;
}

/**
 * The operator API of holders' reports of payments under /admin/api/disputes: the queue (open ones, oldest first),
 * one report, and its decision (approvals/decide-dispute.ts).
 */
export function adminDisputeRoutes({ parseBody, disputes, operatorAuth }: AdminDisputeDeps): Router {
  const router = new Router({ prefix: '/admin/api/disputes' });
  router.use(requireOperator(operatorAuth));
  router.use(async function noStore(ctx: Context, next) {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/', async function listReports(ctx) {
    const q = parseInput(disputeListQuery, ctx.query);
    const rows = await listDisputes(disputes.db, { status: q.status === 'all' ? undefined : q.status, limit: q.limit });
    ctx.body = { disputes: rows.map(presentDisputeToOperator) };
  });

  router.get('/:disputeId', async function showReport(ctx) {
    const { dispute_id: id } = parseInput(disputeIdParam, { dispute_id: ctx.params.disputeId });
    const found = await findDispute(disputes.db, id);
    if (!found) throw new NotFoundError(NO_SUCH_DISPUTE, { dispute_id: NO_SUCH_DISPUTE });
    ctx.body = presentDisputeToOperator(found);
  });

  router.post('/:disputeId/decision', parseBody, async function decideReport(ctx) {
    const { dispute_id: id } = parseInput(disputeIdParam, { dispute_id: ctx.params.disputeId });
    const input = parseInput(disputeDecisionInput, jsonBody(ctx));
    const decided = await decideDispute(disputes, {
      disputeId: id,
      decision: input.decision,
      amount: input.amount,
      note: input.note || null,
      actor: String(ctx.state.actor ?? 'operator'),
      requestId: ctx.state.requestId,
    });
    ctx.body = presentDisputeToOperator(decided);
  });

  return router;
}
