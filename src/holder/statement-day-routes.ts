import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Db } from '../db/knex.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { jsonBody, parseWith } from '../http/validate.ts';
import { todayIn } from '../ledger/calendar.ts';
import { changeStatementDay, presentStatementDayChange, STATEMENT_DAY_RANGE, type StatementDayChanged } from '../ledger/change-statement-day.ts';
import { ownOverdue } from '../ledger/delinquency.ts';
import type { BillingPolicy, DelinquencyPolicy } from '../ledger/deps.ts';
import { statementScheduleOf } from '../ledger/statement-schedule.ts';
import { money } from '../lib/money.ts';
import { holderNav, type HolderState } from './session.ts';

export interface StatementDayRouteDeps {
  db: Db;
  parseBody: Middleware;
  requireHolder: Middleware;
  render: Renderer;
  billing: Pick<BillingPolicy, 'timeZone' | 'dueDays'>;
  /** A change is refused while a statement is overdue, as the account page judges it. */
  delinquency: DelinquencyPolicy;
  /** The clock a change and the page's dates are judged by (the real one; tests bill across a change with another). */
  now: () => Date;
}

/** PUT /api/holder/statement-day: the new day, nothing else (unknown keys are refused). */
export const statementDayApiInput = z.strictObject({
  statement_day: z.number({ error: STATEMENT_DAY_RANGE }).int(STATEMENT_DAY_RANGE).min(1, STATEMENT_DAY_RANGE).max(28, STATEMENT_DAY_RANGE),
});

const DAY_CHOICE = 'Choose a day from 1 to 28.';
/** The page's form: a day from the list, 1 to 28 as the list writes them. */
const statementDayFormInput = z.object({
  statement_day: z
    .string({ error: DAY_CHOICE })
    .regex(/^(?:[1-9]|1[0-9]|2[0-8])$/, DAY_CHOICE)
    .transform(Number),
});

const FORM: Omit<FormPage<typeof statementDayFormInput>, 'locals'> = {
  view: 'holder/statement-day',
  title: 'Statement day',
  purpose: 'holder:statement-day',
  fields: ['statement_day'],
  keep: ['statement_day'],
  schema: statementDayFormInput,
  onlyItsFields: 'This form takes only the statement day.',
};

/** The notice after a change: when the period running closes and from which statement the new day holds. */
function changedNotice(c: StatementDayChanged): string {
  return c.firstOnNewDay === c.closes
    ? `Statements now close on day ${c.to}. Your current period closes early, on ${c.closes}, with payment due on ${c.due}; every statement after it closes on day ${c.to} too.`
    : `Statements now close on day ${c.to}. Your current period still closes on ${c.closes}, with payment due on ${c.due}; the statement of ${c.firstOnNewDay}, covering the days between, is the first on day ${c.to}.`;
}

/**
 * The holder's statement day: which day of the month their statements close on, and so when payment falls due, as a
 * page (/card/statement-day, with a form to choose another) and as JSON (GET/PUT /api/holder/statement-day). A
 * ward's follows the guardian's and is not theirs to change. The rules are ledger/change-statement-day.ts's.
 */
export function statementDayRoutes(deps: StatementDayRouteDeps): Router {
  const router = new Router();
  router.use(['/card/statement-day', '/api/holder/statement-day'], deps.parseBody, deps.requireHolder);
  const { show, submit } = formPages(deps.render);
  const today = () => todayIn(deps.billing.timeZone, deps.now());

  async function form(ctx: Context): Promise<FormPage<typeof statementDayFormInput>> {
    const { accountId } = ctx.state.holder as HolderState;
    const schedule = await statementScheduleOf(deps.db, accountId, { today: today(), dueDays: deps.billing.dueDays });
    // An overdue statement refuses every change: say so in place of a form whose every choice would be refused.
    const owed = schedule.follows_guardian || schedule.change ? undefined : await ownOverdue(deps.db, accountId, deps.delinquency);
    const overdue = owed ? { date: owed.statementDate, due: owed.dueDate, amount: money(owed.outstanding, owed.currency) } : null;
    return { ...FORM, locals: { nav: await holderNav(ctx, deps.db), schedule, overdue, timeZone: deps.billing.timeZone } };
  }

  async function change(ctx: Context, statementDay: number): Promise<StatementDayChanged> {
    const { accountId, cardId } = ctx.state.holder as HolderState;
    return changeStatementDay(deps, { accountId, statementDay, today: today(), actor: `card:${cardId}`, by: 'holder', requestId: ctx.state.requestId });
  }

  router.get('/card/statement-day', async function showStatementDay(ctx) {
    await show(ctx, await form(ctx));
  });

  router.post('/card/statement-day', async function chooseStatementDay(ctx) {
    await submit(ctx, await form(ctx), async (input) => {
      const changed = await change(ctx, input.statement_day);
      await show(ctx, await form(ctx), { notice: changedNotice(changed) });
    });
  });

  router.get('/api/holder/statement-day', async function readStatementDay(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    ctx.body = await statementScheduleOf(deps.db, accountId, { today: today(), dueDays: deps.billing.dueDays });
  });

  router.put('/api/holder/statement-day', async function setStatementDay(ctx) {
    const input = parseWith(statementDayApiInput, jsonBody(ctx));
    ctx.body = presentStatementDayChange(await change(ctx, input.statement_day));
  });

  return router;
}
