import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { countWrongPasswords } from '../cards/count-wrong-passwords.ts';
import type { Db } from '../db/knex.ts';
import { currentLocale } from '../http/locale.ts';
import type { Renderer } from '../http/render.ts';
import { parseWith } from '../http/validate.ts';
import type { DelinquencyPolicy } from '../ledger/deps.ts';
import { todayIn } from '../ledger/calendar.ts';
import { holderAccount, holderAccountAndSchedule, holderStatement, type HolderAccountView } from '../ledger/holder-account.ts';
import { formatLocalTime } from '../lib/local-time.ts';
import { formatMoney } from '../lib/money.ts';
import { reportable } from './reportable.ts';
import { holderNav, type HolderState } from './session.ts';

export interface AccountRouteDeps {
  db: Db;
  /** A closed card's holder sees what is owed too. */
  requireHolderOrFormer: Middleware;
  render: Renderer;
  delinquency: DelinquencyPolicy;
  /** The clock the statement day's dates are judged by (see statement-day-routes.ts). */
  now: () => Date;
  /** How many days after its approval a payment may be reported (config payments.disputeDays). */
  disputeDays: number;
}

type ApprovalLine = HolderAccountView['recent_approvals'][number];

const statementQuery = z.object({ statement: z.string().regex(/^[1-9][0-9]{0,15}$/, 'Not a statement.').transform(Number).optional() });
const statementParam = z.object({ statementId: z.string().regex(/^[1-9][0-9]{0,15}$/, 'Not a statement.').transform(Number) });

/**
 * The signed-in holder's account: balance, available credit, open holds, recent approvals and statements,
 * as a page (/card/account, ?statement=ID for one statement's lines) and as JSON (/api/holder/account,
 * /api/holder/statements/:id). Another account's statement is not found. The page warns of wrong passwords
 * typed for the card since the holder's previous sign-in (one query more), linking to the activity page.
 * A former holder (closed card) gets them too (requireHolderOrFormer): what is owed stays theirs to see and pay.
 */
export function accountRoutes(deps: AccountRouteDeps): Router {
  const router = new Router();
  router.use(['/card/account', '/api/holder/account', '/api/holder/statements'], deps.requireHolderOrFormer);

  router.get('/card/account', async function showAccount(ctx) {
    const holder = ctx.state.holder as HolderState;
    const { accountId } = holder;
    const { statement } = parseWith(statementQuery, ctx.query);
    const { view, schedule } = await holderAccountAndSchedule(deps.db, accountId, deps.delinquency);
    const shownId = statement ?? view.statements[0]?.id;
    const shown = shownId === undefined ? null : await holderStatement(deps.db, accountId, shownId);
    const timeZone = deps.delinquency.timeZone;
    ctx.type = 'html';
    ctx.body = await deps.render('holder/account', {
      title: 'Your account',
      nav: await holderNav(ctx, deps.db),
      cardClosed: holder.cardClosed,
      view,
      shown,
      wrongPasswords: await countWrongPasswords(deps.db, holder),
      // Whether a change of statement day is still ahead (the statement-day page tells the rest).
      today: todayIn(timeZone, deps.now()),
      followsGuardian: schedule.guardianAccountId !== null,
      // The wall clock, as openDispute() judges a report by (deps.now moves only the statement day's dates in tests).
      reportable: (a: ApprovalLine) => reportable(a, deps.disputeDays, Date.now()),
      money: (n: number) => formatMoney(n, view.currency, currentLocale()),
      // Dates and times as the statements count them (billing.timeZone), not the UTC date of the ISO string.
      timeZone,
      localDate: (iso: string) => todayIn(timeZone, new Date(iso)),
      // The zone is named in the column's heading.
      localTime: (iso: string) => formatLocalTime(new Date(iso), timeZone).slice(0, 16),
    });
  });

  router.get('/api/holder/account', async function readAccount(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    ctx.body = await holderAccount(deps.db, accountId, deps.delinquency);
  });

  router.get('/api/holder/statements/:statementId', async function readStatement(ctx) {
    const { accountId } = ctx.state.holder as HolderState;
    const { statementId } = parseWith(statementParam, ctx.params);
    ctx.body = await holderStatement(deps.db, accountId, statementId);
  });

  return router;
}
