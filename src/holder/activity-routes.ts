import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { holderActivity, type ActivityItem } from '../cards/holder-activity.ts';
import type { Db } from '../db/knex.ts';
import { ValidationError } from '../errors.ts';
import type { Renderer } from '../http/render.ts';
import { formatLocalTime } from '../lib/local-time.ts';
import { describeActivity, inEnglish } from './describe-activity.ts';
import { holderNav, type HolderState } from './session.ts';

export interface ActivityRouteDeps {
  db: Db;
  /** A closed card's holder sees its activity too. */
  requireHolderOrFormer: Middleware;
  render: Renderer;
  /** The time zone the page tells times in (config billing.timeZone). */
  timeZone: string;
}

const BAD_BEFORE = 'To see older activity, before= must be one whole number from 1, as the "Older activity" link gives it.';

/** ?before=N, the cursor of the "Older activity" link: one whole number (a safe integer), nothing else. */
const activityQuery = z.object({
  before: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/)
    .transform(Number)
    .refine(Number.isSafeInteger)
    .optional(),
});

function parseBefore(ctx: Context): number | undefined {
  const parsed = activityQuery.safeParse(ctx.query);
  if (!parsed.success) throw new ValidationError(BAD_BEFORE, { before: BAD_BEFORE });
  return parsed.data.before;
}

/** An entry as the JSON API (and the holder's copy of their data) gives it: the sentence the page shows (in English, as every JSON API), and its facts, never an id or a request. */
export function presentActivityItem(item: ActivityItem, timeZone: string) {
  return {
    at: item.at.toISOString(),
    kind: item.kind,
    text: describeActivity(item, timeZone, inEnglish),
    about: item.about,
    card_last4: item.cardLast4,
    site: item.site,
    page: item.page,
    amount: item.amount,
    previous_amount: item.previousAmount,
    currency: item.currency,
    until: item.until?.toISOString() ?? null,
    new_last4: item.newLast4,
    statement_day_change: item.statementDay && {
      from: item.statementDay.from,
      to: item.statementDay.to,
      first_statement_date: item.statementDay.firstStatementDate,
    },
    control_changes: item.controlChanges,
    language: item.language,
  };
}

/**
 * The signed-in holder's activity, newest first, 50 at a time (?before= the cursor of the next page): sign-ins,
 * wrong passwords, lockouts, payments and every change to the account and its cards, old cards included, in
 * the holder's words (/card/activity), and as JSON (/api/holder/activity). A holder sees use of the card that
 * was not theirs here.
 */
export function activityRoutes(deps: ActivityRouteDeps): Router {
  const router = new Router();
  router.use(['/card/activity', '/api/holder/activity'], deps.requireHolderOrFormer);

  router.get('/card/activity', async function showActivity(ctx) {
    const { accountId, cardClosed } = ctx.state.holder as HolderState;
    const before = parseBefore(ctx);
    const { items, nextBefore } = await holderActivity(deps.db, accountId, { before });
    ctx.type = 'html';
    ctx.body = await deps.render('holder/activity', {
      title: 'Your card activity',
      nav: await holderNav(ctx, deps.db),
      cardClosed,
      // The zone is named once, in the column's heading, and the date and the time may go on two lines: on a phone the
      // words of each entry need the width more than a time said in one line.
      timeZone: deps.timeZone,
      entries: items.map((item) => {
        const [date, time] = formatLocalTime(item.at, deps.timeZone).split(' ');
        return { date, time, card: item.cardLast4, about: item.about, text: describeActivity(item, deps.timeZone), kind: item.kind };
      }),
      older: nextBefore === null ? null : `/card/activity?before=${nextBefore}`,
      paged: before !== undefined,
    });
  });

  router.get('/api/holder/activity', async function readActivity(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    const { items, nextBefore } = await holderActivity(deps.db, accountId, { before: parseBefore(ctx) });
    ctx.body = { entries: items.map((item) => presentActivityItem(item, deps.timeZone)), next_before: nextBefore };
  });

  return router;
}
