import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { CardDeps } from '../cards/deps.ts';
import { appendAudit } from '../db/audit-log.ts';
import { claimDataReady, dataReadyState, markDataReady } from '../db/holder-sessions.ts';
import { DATA_EXPORT_WINDOW_SECONDS } from '../db/throttles.ts';
import { EXPORT_LIST_CAP, exportHolderData, exportProvenHolderData, proveForHolderData, type HolderData } from '../cards/export-holder-data.ts';
import { passwordField } from '../cards/input-fields.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import { AppError } from '../errors.ts';
import { formatLocalTime } from '../lib/local-time.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { QuotaSpentError, withinQuota } from '../throttles/guard-quota.ts';
import { holderDataFile, sendHolderDataFile } from './data-file.ts';
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

/** How long the ready page's button gives the file after the password was typed. */
export const DATA_READY_SECONDS = 300;

const readyInput = z.object({});

const READY: FormPage<typeof readyInput> = {
  view: 'holder/data-ready',
  title: 'Your copy is ready',
  purpose: 'holder:data:file',
  fields: [],
  keep: [],
  schema: readyInput,
  onlyItsFields: 'This button takes nothing else.',
  locals: { minutes: DATA_READY_SECONDS / 60, taken: false },
};

/** The ready page's button again, or after its minutes: no file is waiting (410, the password form shown again). */
class NoDataReadyError extends AppError {
  constructor() {
    super('data_not_ready', 'No copy is waiting: it was saved already, or the minutes to save it have passed. Type your password again for a new one.', { status: 410 });
  }
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
 * file holds and asks for the card password again. The form's post proves it and answers with a redirect to
 * /card/data/ready, whose button (POST /card/data/file) takes the file once; POST /api/holder/data answers the file at
 * once. Either answers the same JSON file as a download, never stored by a cache (requireHolder's no-store), and a
 * proven password takes one of the account's hourly downloads. What goes in it is cards/export-holder-data.ts's; the
 * activity is worded here, in English as every JSON answer, like /api/holder/activity.
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

  /**
   * Runs `action` (which checks the password typed again) within the account's hourly downloads and under the password
   * throttles: a refusal of either, or a wrong password, takes no download.
   */
  function withinDownloads<T>(ctx: Context, action: () => Promise<T>): Promise<T> {
    const { accountId } = ctx.state.holder as HolderState;
    const quota = { key: { scope: 'data_export' as const, key: accountId }, max: deps.downloadsPerHour, windowSeconds: DATA_EXPORT_WINDOW_SECONDS };
    return withinQuota(deps.throttle.db, quota, (windowEnds, wait) => refuseDownload(ctx, windowEnds, wait), () =>
      withHolderPassword(ctx, { throttle: deps.throttle, db }, action),
    );
  }

  /** Answers the file: a download, never stored by a cache (requireHolder's no-store). */
  function sendFile(ctx: Context, data: HolderData): void {
    sendHolderDataFile(ctx, holderDataFile(data, deps.timeZone));
  }

  const formPage = async (ctx: Context) => ({ ...FORM, locals: { ...FORM.locals, nav: await holderNav(ctx, db) } });
  const readyPage = async (ctx: Context) => ({ ...READY, locals: { ...READY.locals, nav: await holderNav(ctx, db) } });

  router.get('/card/data', async function showData(ctx) {
    await show(ctx, await formPage(ctx));
  });

  // The form's password is answered by a redirect to the page the file is taken from, not by the file: a download
  // leaves the page it was asked from open, and this one would keep the typed password in its field (no script clears
  // it). The session may then take the file once, within DATA_READY_SECONDS; nothing else of it is in a URL.
  router.post('/card/data', async function proveByForm(ctx) {
    await submit(ctx, await formPage(ctx), async (input) => {
      const { accountId, cardId, sessionIdHash } = ctx.state.holder as HolderState;
      await withinDownloads(ctx, () => proveForHolderData(deps.cards, { accountId, cardId, password: input.password, requestId: ctx.state.requestId }));
      await markDataReady(db, sessionIdHash, DATA_READY_SECONDS);
      ctx.status = 303;
      ctx.redirect('/card/data/ready');
    });
  });

  // Reloaded or come back to (Back) once its file was saved, the page says so and offers the password form again,
  // not a button that gives nothing any more (the pages run no script that could take it away on the click itself).
  router.get('/card/data/ready', async function showReady(ctx) {
    const state = await dataReadyState(db, (ctx.state.holder as HolderState).sessionIdHash);
    if (state === 'none') {
      ctx.status = 303;
      ctx.redirect('/card/data');
      return;
    }
    const page = await readyPage(ctx);
    await show(ctx, state === 'ready' ? page : { ...page, title: 'Your copy was saved', locals: { ...page.locals, taken: true } });
  });

  router.post('/card/data/file', async function downloadByForm(ctx) {
    await submit(ctx, await readyPage(ctx), async () => {
      const { accountId, cardId, sessionIdHash } = ctx.state.holder as HolderState;
      if (!(await claimDataReady(db, sessionIdHash))) {
        const gone = new NoDataReadyError();
        await show(ctx, await formPage(ctx), { status: gone.status, error: gone.message, errorCode: gone.code });
        return;
      }
      sendFile(ctx, await exportProvenHolderData({ ...deps.cards, timeZone: deps.timeZone }, { accountId, cardId, requestId: ctx.state.requestId }));
    });
  });

  router.post('/api/holder/data', async function downloadByApi(ctx) {
    const { password } = parseWith(dataApiInput, jsonBody(ctx));
    const { accountId, cardId } = ctx.state.holder as HolderState;
    sendFile(ctx, await withinDownloads(ctx, () => exportHolderData({ ...deps.cards, timeZone: deps.timeZone }, { accountId, cardId, password, requestId: ctx.state.requestId })));
  });

  return router;
}
