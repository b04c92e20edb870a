import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import type { Approval } from '../db/approvals.ts';
import type { DisputeSummary } from '../db/disputes.ts';
import type { Db } from '../db/knex.ts';
import { AppError, NotFoundError, ValidationError } from '../errors.ts';
import { idempotencyKeyOf, requestHash, runIdempotent } from '../http/idempotency.ts';
import { parseWith, queryParams } from '../http/validate.ts';
import { isCalendarDate } from '../ledger/calendar.ts';
import { parseMinorUnits } from '../lib/money.ts';
import { findMemberSite, findMemberSiteWithApproval, type MemberSite } from '../db/member-sites.ts';
import { memberSiteAuth } from '../http/member-site-auth.ts';
import type { SiteAuthenticator, SiteFinder } from '../member-sites/authenticate.ts';
import { APPROVAL_NO_PATTERN } from './approval-number.ts';
import { listForSite } from './list-for-site.ts';
import { presentApproval, presentDisputeToSite } from './present.ts';
import { capture } from './capture.ts';
import { InvalidAmountError } from './errors.ts';
import { refund } from './refund.ts';
import { voidApproval } from './void.ts';

export interface ApprovalRoutesDeps {
  db: Db;
  authenticateSite: SiteAuthenticator;
  parseBody: Middleware;
  /** Signs the listing's page cursors (page-cursor.ts). */
  cursorKey: Buffer;
}

/** The member-site approvals API: a site lists, sees and changes (capture, void, refund) only its own approvals. */
export function approvalRoutes({ db, authenticateSite, parseBody, cursorKey }: ApprovalRoutesDeps): Router {
  const router = new Router({ prefix: '/api/approvals' });
  router.use(parseBody);

  const memberSite = memberSiteAuth(authenticateSite);

  async function authenticateMemberSite(ctx: Context, next: Next) {
    await memberSite(ctx, findMemberSite);
    await next();
  }

  router.get('/', async function listApprovals(ctx) {
    const site = await memberSite(ctx, findMemberSite);
    const q = listQuery(ctx.query);
    const page = await listForSite({ db, cursorKey }, { clientId: site.clientId, since: q.since, until: q.until, status: q.status }, { limit: q.limit, after: q.after });
    ctx.body = {
      approvals: page.approvals.map(({ approval, dispute }) => ({ ...presentApproval(approval, site), dispute: presentDisputeToSite(dispute) })),
      next: page.next,
    };
  });

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

const STATUSES = ['approved', 'captured', 'voided', 'expired', 'revoked'] as const;

// An instant with its offset (a bare local time would mean a different instant in each site's zone), to the microsecond.
// The offset at most ±14:59: every zone's lies within −12:00…+14:00, and PostgreSQL cannot read one past ±15:59.
const INSTANT = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;
const isInstant = (s: string) => {
  const m = INSTANT.exec(s);
  return Boolean(m && isCalendarDate(m[1]!));
};
const instant = z
  .string()
  .superRefine((s, ctx) => {
    if (isInstant(s)) return;
    // A + left unescaped in a query string is read as a space: the offset the site wrote arrives as " 09:00".
    const plusAsSpace = isInstant(s.replace(/ (?=\d{2}:\d{2}$)/, '+'));
    ctx.addIssue({
      code: 'custom',
      message: plusAsSpace
        ? 'The offset arrived without its +: a + in a URL is read as a space, so write it %2B (2026-11-01T00:00:00%2B09:00).'
        : 'An ISO 8601 instant with its offset, e.g. 2026-11-01T00:00:00+09:00 or 2026-10-31T15:00:00Z.',
    });
  })
  .optional();

const listSchema = z
  .object({
    since: instant,
    until: instant,
    status: z.enum(STATUSES, { error: `One of ${STATUSES.join(', ')}.` }).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'A whole number from 1 to 200.')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 200, 'A whole number from 1 to 200.')
      .default(50),
    after: z.string().optional(),
  })
  .refine((q) => q.since === undefined || q.until === undefined || Date.parse(q.since) <= Date.parse(q.until), {
    message: 'Must not be after until.',
    path: ['since'],
  });

/** GET /api/approvals's query: only its own parameters, each once. */
function listQuery(query: Record<string, string | string[] | undefined>) {
  return parseWith(listSchema, queryParams(query, ['since', 'until', 'status', 'limit', 'after']));
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
    // The words the body reader uses for a bare JSON value (http/parse-body.ts): an array gets past it to here.
    throw new ValidationError('Send a JSON object.', { body: 'Expected a JSON object.' });
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
