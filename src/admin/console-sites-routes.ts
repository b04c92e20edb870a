import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Directory } from '../db/directory.ts';
import type { Db } from '../db/knex.ts';
import type { MemberSite } from '../db/member-sites.ts';
import { NotFoundError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { readForm } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { fieldErrors } from '../http/validate.ts';
import { formatMoney } from '../lib/money.ts';
import { closeSite } from '../member-sites/close.ts';
import { listSites, noSuchSite, showSite } from '../member-sites/list.ts';
import { RECENT_DAYS, recentApprovals } from '../member-sites/recent-approvals.ts';
import { reinstateSite } from '../member-sites/reinstate.ts';
import type { MetadataRules } from '../member-sites/site-metadata.ts';
import { suspendSite } from '../member-sites/suspend.ts';
import { updateSite } from '../member-sites/update.ts';
import { doneNotice, inEnglish, sendConsolePage, utcMinute } from './console-session.ts';
import { SOME_FIELDS } from './operator-input.ts';
import { presentSite } from './present-site.ts';
import { clientIdParam, listQuery, reasonInput, siteCall } from './sites-inputs.ts';

export interface ConsoleSiteDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  db: Db;
  render: Renderer;
  /** This instance's kept member sites: a change made here is forgotten as it commits, as the API's are. */
  directory: Directory;
  /** config.currency: a site's maximum amount is in its minor units. */
  currency: string;
  /** The registry's rules (registryRules): a change made here is checked as the API's PATCH is. */
  rules: MetadataRules;
}

const PURPOSE = 'admin:sites';
const STATUSES = ['active', 'suspended', 'closed'] as const;
const BAD_FILTER = 'There is no such status: show active, suspended or closed sites, or all.';
const CONFIRM_CLOSE = 'Tick this to close the site for good.';

/** The API's status changes (POST /admin/api/sites/:id/suspend|reinstate|close), by the form's action. */
const ACTIONS = { suspend: suspendSite, reinstate: reinstateSite, close: closeSite } as const;
type Action = keyof typeof ACTIONS;
const isAction = (a: unknown): a is Action => typeof a === 'string' && Object.hasOwn(ACTIONS, a);

/** What each status allows the operator to do next: a closed site is closed for good. */
const NEXT: Record<MemberSite['status'], Action[]> = { active: ['suspend', 'close'], suspended: ['reinstate', 'close'], closed: [] };

/** The redirect's `done` after a change, by the form's action. */
const DONE_KEY: Record<Action, string> = { suspend: 'suspended', reinstate: 'reinstated', close: 'closed' };

const DONE: Record<string, string> = {
  suspended: 'Suspended: the site can start no login or payment, and its approvals read as suspended to its resource servers.',
  reinstated: 'Reinstated: the site can start logins and payments again.',
  closed: 'Closed for good: the site’s logins, tokens and secrets no longer work; its approvals and audit trail stay.',
  'par-on': 'PAR required: a request the site did not push (RFC 9126) goes back to it as invalid_request.',
  'par-off': 'PAR no longer required: the site may send its requests through the browser too.',
};

/** The PAR form's `require`: what the site is to be (yes: every authorization request pushed). */
const REQUIRE = { yes: true, no: false } as const;
const CHOOSE_PAR = 'Choose yes or no: whether the site must push its authorization requests (PAR).';

interface Refusal {
  status: number;
  /** The form (suspend, reinstate, close, or par) the refusal is about: its reason is refilled, its fields marked. */
  action: Action | 'par';
  error: string;
  fields: Record<string, string>;
  values: { reason: string; confirm: string };
}

/** A site as the console's pages show it: the API's view (never a secret, nor its hash), its creation, its cap in money. */
function shownSite(s: MemberSite, currency: string) {
  return { ...presentSite(s), created: s.createdAt ? utcMinute(s.createdAt) : '', max: s.maxAmount === null ? null : formatMoney(s.maxAmount, currency) };
}

/**
 * Member sites in the operator console (/admin/sites): the registry as GET /admin/api/sites lists it (filtered by
 * status with the API's own query schema), a page per site with its registration and its approvals of the last
 * RECENT_DAYS days, and suspend, reinstate and close (the last confirmed with a tick) through the API's domain
 * functions and input schemas, audited as the operator signed in. A change already made says so and writes nothing.
 */
export function consoleSiteRoutes(deps: ConsoleSiteDeps): Router {
  const router = new Router({ prefix: '/admin/sites' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);

  async function listPage(ctx: Context, opts: { status?: number; filter?: MemberSite['status']; error?: string } = {}): Promise<void> {
    const sites = (await listSites(deps.db, opts.filter)).map((s) => shownSite(s, deps.currency));
    await sendConsolePage(ctx, deps.render, 'admin/sites', {
      title: 'Member sites',
      sites,
      statuses: STATUSES,
      filter: opts.filter ?? null,
      error: opts.error ?? null,
    }, opts.status);
  }

  async function sitePage(ctx: Context, site: MemberSite, opts: { refusal?: Refusal; notice?: string } = {}): Promise<void> {
    await sendConsolePage(ctx, deps.render, 'admin/site', {
      title: `Member site ${site.name}`,
      csrf: csrfToken(ctx, PURPOSE),
      site: shownSite(site, deps.currency),
      recent: await recentApprovals(deps.db, site.clientId),
      recentDays: RECENT_DAYS,
      actions: NEXT[site.status],
      refusal: opts.refusal ?? null,
      notice: opts.notice ?? null,
    }, opts.refusal?.status);
  }

  /** The site by the client id in the path, or undefined for one that is not a client id or no site has. */
  async function siteOf(clientId: string): Promise<MemberSite | undefined> {
    if (!clientIdParam.safeParse({ client_id: clientId }).success) return undefined;
    try {
      return await showSite(deps.db, clientId);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }
  const noSuch = (ctx: Context, clientId: string) => listPage(ctx, { status: 404, error: noSuchSite(clientId).message });

  router.get('/', async function listSitesInConsole(ctx) {
    const status = ctx.query.status;
    // The "All" link sends no status; an empty one (a hand-edited address) means the same.
    const parsed = listQuery.safeParse(status === undefined || status === '' ? {} : { status });
    if (!parsed.success) return listPage(ctx, { status: 400, error: BAD_FILTER });
    await listPage(ctx, { filter: parsed.data.status });
  });

  router.get('/:clientId', async function showSiteInConsole(ctx) {
    const clientId = ctx.params.clientId!;
    const site = await siteOf(clientId);
    if (!site) return noSuch(ctx, clientId);
    const unchanged = `The site was ${site.status} already: nothing changed.`;
    const notice = doneNotice({ ...DONE, unchanged }, ctx.query.done);
    await sitePage(ctx, site, notice ? { notice } : {});
  });

  // Before the status changes' route, which answers 404 for any other action.
  router.post('/:clientId/par', async function setRequireParFromConsole(ctx) {
    const clientId = ctx.params.clientId!;
    const { values: raw, refused } = readForm(ctx, ['csrf', 'require']);
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const site = await siteOf(clientId);
    if (!site) return noSuch(ctx, clientId);
    const refuse = (status: number, error: string, fields: Record<string, string>) =>
      sitePage(ctx, site, { refusal: { status, action: 'par', error, fields, values: { reason: '', confirm: '' } } });
    if (refused) return refuse(400, refused.message, refused.fields ?? {});
    const choice = raw.require;
    if (choice !== 'yes' && choice !== 'no') return refuse(400, CHOOSE_PAR, {});
    try {
      const change = { requirePushedAuthorizationRequests: REQUIRE[choice] };
      await siteCall(updateSite({ db: deps.db, ...deps.rules }, clientId, change, String(ctx.state.actor)));
      ctx.status = 303;
      ctx.redirect(`/admin/sites/${clientId}?done=par-${choice === 'yes' ? 'on' : 'off'}`);
    } catch (err) {
      const refusal = shownRefusal(ctx, err, 'console form refused');
      const now = (await siteOf(clientId)) ?? site;
      return sitePage(ctx, now, { refusal: { status: refusal.status, action: 'par', error: refusal.message, fields: refusal.fields ?? {}, values: { reason: '', confirm: '' } } });
    } finally {
      deps.directory.forgetAllOnceCommitted();
    }
  });

  router.post('/:clientId/:action', async function changeSiteStatusFromConsole(ctx) {
    const action = ctx.params.action;
    if (!isAction(action)) return; // any other path: 404
    const clientId = ctx.params.clientId!;
    const { values: raw, refused } = readForm(ctx, ['csrf', 'reason', 'confirm']);
    checkCsrf(ctx, PURPOSE, raw.csrf);
    const site = await siteOf(clientId);
    if (!site) return noSuch(ctx, clientId);
    const values = { reason: raw.reason ?? '', confirm: raw.confirm ?? '' };
    const refuse = (status: number, error: string, fields: Record<string, string>) =>
      sitePage(ctx, site, { refusal: { status, action, error, fields, values } });
    if (refused) return refuse(400, refused.message, refused.fields ?? {});

    const parsed = reasonInput.safeParse({ reason: values.reason });
    const fields = parsed.success ? {} : fieldErrors(parsed.error);
    // Closing cannot be undone (its secrets are wiped): the form asks for a tick besides the reason.
    if (action === 'close' && raw.confirm !== 'on') fields.confirm = CONFIRM_CLOSE;
    if (!parsed.success || fields.confirm) return refuse(400, SOME_FIELDS, fields);
    try {
      const { changed } = await siteCall(ACTIONS[action](deps.db, clientId, parsed.data.reason, String(ctx.state.actor)));
      ctx.status = 303;
      ctx.redirect(`/admin/sites/${clientId}?done=${changed ? DONE_KEY[action] : 'unchanged'}`);
    } catch (err) {
      // A refusal re-reads the site: another operator may have closed it meanwhile.
      const refusal = shownRefusal(ctx, err, 'console form refused');
      const now = (await siteOf(clientId)) ?? site;
      return sitePage(ctx, now, { refusal: { status: refusal.status, action, error: refusal.message, fields: refusal.fields ?? {}, values } });
    } finally {
      // As the API's: this instance forgets the kept site as the change commits, before the answer leaves.
      deps.directory.forgetAllOnceCommitted();
    }
  });

  return router;
}
