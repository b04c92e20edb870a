import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Approval } from '../db/approvals.ts';
import type { DisputeSummary } from '../db/disputes.ts';
import type { Db } from '../db/knex.ts';
import { AppError, NotFoundError, ValidationError } from '../errors.ts';
import { idempotencyKeyOf, requestHash, runIdempotent } from '../http/idempotency.ts';
import { parseMinorUnits } from '../lib/money.ts';
import { findMemberSite, findMemberSiteWithApproval, type MemberSite } from '../db/member-sites.ts';
import { API_SCOPE, BearerTokenError, SiteAuthError, type SiteAuthenticator, type SiteFinder } from '../member-sites/authenticate.ts';
import { APPROVAL_NO_PATTERN } from './approval-number.ts';
import { presentApproval, presentDisputeToSite } from './present.ts';
import { capture } from './capture.ts';
import { InvalidAmountError } from './errors.ts';
import { refund } from './refund.ts';
import { voidApproval } from './void.ts';

export interface ApprovalRoutesDeps {
  db: Db;
  authenticateSite: SiteAuthenticator;
  parseBody: Middleware;
}

/** The member-site approvals API: a site sees and changes (capture, void, refund) only its own approvals. */
export function approvalRoutes({ db, authenticateSite, parseBody }: ApprovalRoutesDeps): Router {
  const router = new Router({ prefix: '/api/approvals' });
  router.use(parseBody);

  /** Authenticates the calling member site (`find` may load the route's row with it), or 401 with a challenge. */
  async function memberSite<S extends MemberSite>(ctx: Context, find: SiteFinder<S>): Promise<S> {
    let site: S;
    try {
      site = await authenticateSite(ctx.get('authorization') || undefined, find);
    } catch (err) {
      if (err instanceof SiteAuthError) ctx.set('WWW-Authenticate', 'Basic realm="cybercard", Bearer realm="cybercard"');
      // RFC 6750 §3: the token's own trouble, so that a site knows to get a new one (or to ask for the scope).
      if (err instanceof BearerTokenError) {
        const scope = err.code === 'insufficient_scope' ? `, scope="${API_SCOPE}"` : '';
        ctx.set('WWW-Authenticate', `Bearer realm="cybercard", error="${err.code}"${scope}`);
      }
      throw err;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.state.site = site;
    return site;
  }

  async function authenticateMemberSite(ctx: Context, next: Next) {
    await memberSite(ctx, findMemberSite);
    await next();
  }

  router.get('/:approvalNo', async function getApproval(ctx) {
    const no = ctx.params.approvalNo ?? '';
    // Strict-mode status checks make this the API's busiest call: the site and its approval in one query.
    const find: SiteFinder<MemberSite & { approval?: Approval | undefined; dispute?: DisputeSummary | undefined }> = APPROVAL_NO_PATTERN.test(no)
      ? (conn, clientId) => findMemberSiteWithApproval(conn, clientId, no)
      : findMemberSite;
    const site = await memberSite(ctx, find);
    // Another site's approval is indistinguishable from a missing one.
    if (!site.approval) throw new NotFoundError('No such approval for this member site.');
    ctx.body = { ...presentApproval(site.approval, site), dispute: presentDisputeToSite(site.dispute) };
  });

  /**
   * capture / void / refund: the Idempotency-Key and the body are checked before anything runs, then
   * the change and its idempotency record commit together (see http/idempotency.ts).
   */
  function change(op: 'capture' | 'void' | 'refund') {
    return async function changeApproval(ctx: Context) {
      const site = ctx.state.site as MemberSite;
      const key = idempotencyKeyOf(ctx);
      const { amount } = changeBody(ctx, op === 'void' ? [] : ['amount']);
      const approvalNo = ctx.params.approvalNo ?? '';
      const who = { clientId: site.clientId, approvalNo, actor: `site:${site.clientId}`, requestId: ctx.state.requestId as string };
      const answer = await runIdempotent(
        db,
        { clientId: site.clientId, key, requestHash: requestHash({ op, approvalNo, amount: amount ?? null }) },
        async (trx) => {
          const done =
            op === 'capture'
              ? await capture(trx, { ...who, amount })
              : op === 'refund'
                ? await refund(trx, { ...who, amount })
                : await voidApproval(trx, who).then((r) => ({ approval: r.approval, amount: r.released }));
          return { status: 200, body: { ...presentApproval(done.approval, site), operation: { type: op, amount: done.amount } } };
        },
      );
      if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
      ctx.status = answer.status;
      ctx.body = answer.body;
    };
  }

  router.post('/:approvalNo/capture', authenticateMemberSite, change('capture'));
  router.post('/:approvalNo/void', authenticateMemberSite, change('void'));
  router.post('/:approvalNo/refund', authenticateMemberSite, change('refund'));

  return router;
}

/**
 * The JSON body of a change: an object with only the `allowed` fields; `amount`, when allowed and
 * present, a positive integer in minor units (JSON integer or digit string).
 */
function changeBody(ctx: Context, allowed: readonly string[]): { amount?: number } {
  if (ctx.request.length && !ctx.request.is('application/json')) {
    throw new AppError('unsupported_media_type', 'Send the body as application/json (or no body).', { status: 415 });
  }
  const body = (ctx.request as { body?: unknown }).body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON object.');
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    const fields = Object.fromEntries(unknown.slice(0, 10).map((k) => [k.slice(0, 64), 'Unknown field.']));
    throw new ValidationError(allowed.length ? `Only ${allowed.join(', ')} may be sent.` : 'This request takes no body fields.', fields);
  }
  const raw = (body as Record<string, unknown>).amount;
  if (raw === undefined) return {};
  const amount = parseMinorUnits(raw);
  if (amount === undefined) throw new InvalidAmountError();
  return { amount };
}
