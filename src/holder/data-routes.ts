import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { CardDeps } from '../cards/deps.ts';
import { appendAudit } from '../db/audit-log.ts';
import { DATA_EXPORT_WINDOW_SECONDS } from '../db/throttles.ts';
import { EXPORT_LIST_CAP, exportHolderData } from '../cards/export-holder-data.ts';
import { passwordField } from '../cards/input-fields.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import { formatLocalTime } from '../lib/local-time.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { QuotaSpentError, withinQuota } from '../throttles/guard-quota.ts';
import { presentActivityItem } from './activity-routes.ts';
import { holderNav, withHolderPassword, type HolderState } from './session.ts';

export interface DataRouteDeps {
  parseBody: Middleware;
  /** A closed card's holder downloads their data too. */
  requireHolderOrFormer: Middleware;
  render: Renderer;
  cards: Pick<CardDeps, 'db' | 'hasher'>;
  /** The password typed again counts like every password proof: source throttle and card lockout. */
  throttle: ThrottleDeps;
  /** The time zone the activity's sentences tell times in (config billing.timeZone). */
  timeZone: string;
  /** Downloads one account may make per hour (config holderData.downloadsPerHour), counted in PostgreSQL (throttles). */
  downloadsPerHour: number;
}

/** The holder's words for the hourly limit reached; `from` told in `timeZone`, as a card lock's end is. */
export function downloadLimitMessage(from: Date, timeZone: string): string {
  return `You have downloaded your data as often as an hour allows. You can download it again from ${formatLocalTime(from, timeZone)}.`;
}

/** POST /api/holder/data: the password, nothing else (the file is always the session's own account's). */
export const dataApiInput = z.strictObject({ password: passwordField });

const dataFormInput = z.object({ password: passwordField });

const FORM: FormPage<typeof dataFormInput> = {
  view: 'holder/data',
  title: 'Download a copy of your data',
  purpose: 'holder:data',
  fields: ['password'],
  keep: [],
  schema: dataFormInput,
  onlyItsFields: 'This form takes only your password.',
  locals: { cap: EXPORT_LIST_CAP },
};

/**
 * The holder's copy of the personal data kept about them (PIPA art. 35, GDPR art. 15/20): /card/data says what the
 * file holds and asks for the card password again; the form and POST /api/holder/data answer the same JSON file as a
 * download, never stored by a cache (requireHolder's no-store). What goes in it is cards/export-holder-data.ts's; the activity is worded here,
 * in English as every JSON answer, like /api/holder/activity.
 */
export function dataRoutes(deps: DataRouteDeps): Router {
  const router = new Router();
  router.use(['/card/data', '/api/holder/data'], deps.parseBody, deps.requireHolderOrFormer);
  const { show, submit } = formPages(deps.render);
  const { db } = deps.cards;

  /**
   * A download past the hourly limit: refused before the password is checked (no file is made, no guess counted),
   * audited as the hourly limit of one-time codes is.
   */
  async function refuseDownload(ctx: Context, windowEnds: Date, retryAfterSeconds: number): Promise<Error> {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    await appendAudit(db, {
      actor: `card:${cardId}`,
      action: 'holder.data_export_refused',
      subjectType: 'card',
      subjectId: cardId,
      details: { accountId, reason: 'hourly limit', limit: deps.downloadsPerHour },
      requestId: ctx.state.requestId,
    });
    return new QuotaSpentError('too_many_downloads', downloadLimitMessage(windowEnds, deps.timeZone), retryAfterSeconds);
  }

  async function download(ctx: Context, password: string): Promise<void> {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    const quota = { key: { scope: 'data_export' as const, key: accountId }, max: deps.downloadsPerHour, windowSeconds: DATA_EXPORT_WINDOW_SECONDS };
    const data = await withinQuota(
      deps.throttle.db,
      quota,
      (windowEnds, wait) => refuseDownload(ctx, windowEnds, wait),
      () =>
        withHolderPassword(ctx, { throttle: deps.throttle, db }, () =>
          exportHolderData({ ...deps.cards, timeZone: deps.timeZone }, { accountId, cardId, password, requestId: ctx.state.requestId }),
        ),
    );
    const madeAt = new Date();
    const file = { made_at: madeAt.toISOString(), ...data, activity: data.activity.map((item) => presentActivityItem(item, deps.timeZone)) };
    ctx.set('Content-Disposition', `attachment; filename="cybercard-data-${madeAt.toISOString().slice(0, 10)}.json"`);
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = JSON.stringify(file, null, 2);
  }

  router.get('/card/data', async function showData(ctx) {
    await show(ctx, { ...FORM, locals: { ...FORM.locals, nav: await holderNav(ctx, db) } });
  });

  router.post('/card/data', async function downloadByForm(ctx) {
    const page = { ...FORM, locals: { ...FORM.locals, nav: await holderNav(ctx, db) } };
    await submit(ctx, page, (input) => download(ctx, input.password));
  });

  router.post('/api/holder/data', async function downloadByApi(ctx) {
    await download(ctx, parseWith(dataApiInput, jsonBody(ctx)).password);
  });

  return router;
}
