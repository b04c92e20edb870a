import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Db } from '../db/knex.ts';
import type { Delivery } from '../db/site-deliveries.ts';
import { COUNT_DAYS, deliveryOverview } from '../deliveries/list-deliveries.ts';
import { retryDelivery } from '../deliveries/retry-delivery.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { readForm } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors } from '../http/validate.ts';
import { listSites, noSuchSite } from '../member-sites/list.ts';
import { doneNotice, inEnglish, sendConsolePage, utcMinute } from './console-session.ts';
import { deliveryParam, retryInput } from './delivery-inputs.ts';
import { SOME_FIELDS } from './operator-input.ts';

export interface ConsoleDeliveryDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  db: Db;
  render: Renderer;
}

const PURPOSE = 'admin:deliveries';
/** Deliveries a page lists. */
const PAGE = 25;
const NO_SUCH_PAGE = 'There is no such page of deliveries.';
/** A path whose kind or id is not one (a hand-edited address). */
const NO_SUCH_DELIVERY = 'There is no such delivery.';

const DONE: Record<string, string> = {
  retried: 'Sent again: it is due now, its attempts counted from none; the list shows it again if the site still does not take it.',
  unchanged: 'It was waiting to be sent already: nothing changed.',
};

/** The page asked for (`?page=N`, 1 when none), or undefined for one that is not a page number. */
const pageQuery = z.union([z.undefined(), z.string().regex(/^[1-9]\d{0,5}$/).transform(Number)]);

interface Refusal {
  status: number;
  /** The row (`${kind}-${id}`) whose form is refused, its reason refilled; none for the page's own refusal. */
  row: string | null;
  error: string;
  fields: Record<string, string>;
  values: { reason: string };
}

/** A delivery as the page lists it: how it went, never the token, the holder or the event's payload. */
function shownDelivery(d: Delivery) {
  return {
    row: `${d.kind}-${d.id}`,
    kind: d.kind,
    id: d.id,
    clientId: d.clientId,
    what: d.kind === 'logout' ? 'logout' : (d.event ?? '').replace(/^.*\//, ''),
    jti: d.jti,
    created: utcMinute(d.createdAt),
    attempts: d.attempts,
    lastError: d.lastError ?? '',
    givenUp: d.status === 'failed',
    next: d.status === 'pending' ? utcMinute(d.nextAttemptAt) : 'none: given up',
  };
}

/**
 * The posts to member sites in the operator console (/admin/deliveries): per site and kind, the last COUNT_DAYS
 * days' pending, delivered and given up, then the deliveries given up or still failing, newest first, a page at a
 * time, filtered by site; each given-up one with "Send again" and a reason, through retryDelivery as the API's
 * POST /admin/api/deliveries/:kind/:id/retry, audited as the operator signed in.
 */
export function consoleDeliveryRoutes(deps: ConsoleDeliveryDeps): Router {
  const router = new Router({ prefix: '/admin/deliveries' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);

  async function page(ctx: Context, opts: { site?: string; page?: number; refusal?: Refusal; notice?: string } = {}): Promise<void> {
    const n = opts.page ?? 1;
    const o = await deliveryOverview(deps.db, { clientId: opts.site, state: 'failing', limit: PAGE + 1, offset: (n - 1) * PAGE });
    await sendConsolePage(ctx, deps.render, 'admin/deliveries', {
      title: 'Deliveries to member sites',
      csrf: csrfToken(ctx, PURPOSE),
      sites: (await listSites(deps.db)).map((s) => ({ clientId: s.clientId, name: s.name })),
      site: opts.site ?? null,
      counts: o.counts,
      days: COUNT_DAYS,
      deliveries: o.deliveries.slice(0, PAGE).map(shownDelivery),
      page: n,
      older: o.deliveries.length > PAGE,
      refusal: opts.refusal ?? null,
      notice: opts.notice ?? null,
    }, opts.refusal?.status);
  }

  const refusePage = (ctx: Context, status: number, error: string) => page(ctx, { refusal: { status, row: null, error, fields: {}, values: { reason: '' } } });

  router.get('/', async function showDeliveries(ctx) {
    const n = pageQuery.safeParse(ctx.query.page);
    if (!n.success) return refusePage(ctx, 400, NO_SUCH_PAGE);
    const site = ctx.query.site;
    // The "All sites" choice sends an empty site: no filter.
    if (site !== undefined && site !== '') {
      if (typeof site !== 'string' || !(await listSites(deps.db)).some((s) => s.clientId === site)) {
        return refusePage(ctx, 404, noSuchSite(String(site)).message);
      }
    }
    const notice = doneNotice(DONE, ctx.query.done);
    await page(ctx, { ...(site ? { site } : {}), page: n.data ?? 1, ...(notice ? { notice } : {}) });
  });

  router.post('/:kind/:id/retry', async function retryDeliveryFromConsole(ctx) {
    const { values: raw, refused } = readForm(ctx, ['csrf', 'reason']);
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const values = { reason: raw.reason ?? '' };
    const param = deliveryParam.safeParse({ kind: ctx.params.kind, id: ctx.params.id });
    if (!param.success) return refusePage(ctx, 404, NO_SUCH_DELIVERY);
    const { kind, id } = param.data;
    const refuse = (status: number, error: string, fields: Record<string, string>) =>
      page(ctx, { refusal: { status, row: `${kind}-${id}`, error, fields, values } });
    if (refused) return refuse(400, refused.message, refused.fields ?? {});
    const parsed = retryInput.safeParse(values);
    if (!parsed.success) return refuse(400, SOME_FIELDS, fieldErrors(parsed.error));
    try {
      const { changed } = await retryDelivery(deps.db, kind, id, parsed.data.reason, String(ctx.state.actor));
      ctx.status = 303;
      ctx.redirect(`/admin/deliveries?done=${changed ? 'retried' : 'unchanged'}`);
    } catch (err) {
      const refusal = shownRefusal(ctx, err, 'console form refused');
      return refuse(refusal.status, refusal.message, {});
    }
  });

  return router;
}
