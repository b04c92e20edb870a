import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { readForm } from '../http/form.ts';
import { shownRefusal } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { monthRange, shiftMonth } from '../ledger/calendar.ts';
import type { LedgerDeps } from '../ledger/deps.ts';
import { closeSettlement, lastEndedMonth, settlementCsv, settlementReport, type SettlementLine, type SettlementReport } from '../ledger/settlement.ts';
import { formatMoney } from '../lib/money.ts';
import { inEnglish, sendConsolePage } from './console-session.ts';
import { monthField } from './ledger-inputs.ts';
import { SOME_FIELDS } from './operator-input.ts';

export interface ConsoleSettlementDeps {
  parseBody: Middleware;
  requireConsoleOperator: Middleware;
  ledger: LedgerDeps;
  render: Renderer;
}

const PURPOSE = 'admin:settlement';
const CONFIRM_CLOSE = 'Tick this to post the month’s settlements to the ledger.';

/** What the page shows besides the month's report, and with which status. */
interface Shown {
  status?: number;
  error?: string;
  fields?: Record<string, string>;
  notice?: string;
  /** The report a close answered with, so the page shows what it posted without reading it again. */
  report?: SettlementReport;
}

/** A line of the report as the console shows it: money as the other console pages write it, counts as they are. */
function shownLine(s: SettlementLine) {
  const money = (n: number) => formatMoney(n, s.currency);
  return { ...s, captured: money(s.captured), refunds: money(s.refunds), chargebacks: money(s.chargebacks), net: money(s.net), fee: money(s.fee), payout: money(s.payout), late_net: money(s.late_net) };
}

/** The report's totals in money, or null when its lines are in several currencies (a sum of them means nothing). */
function shownTotals(r: SettlementReport) {
  const currencies = Object.keys(r.totals_by_currency);
  const t = r.totals;
  if (currencies.length !== 1 || !t) return null;
  const money = (n: number) => formatMoney(n, currencies[0]!);
  return { ...t, captured: money(t.captured), refunds: money(t.refunds), chargebacks: money(t.chargebacks), fee: money(t.fee), payout: money(t.payout) };
}

/** What a close did, in words: the counts are closeSettlement's own answer. */
function closedNotice(month: string, closed: number, already: number): string {
  const now = closed === 1 ? '1 member site’s settlement' : `${closed} member sites’ settlements`;
  return `Closed ${month}: ${now} posted to the ledger now, ${already} closed already.`;
}

/**
 * Member-site settlement in the operator console (/admin/settlement): a month's report as GET
 * /admin/api/ledger/settlements gives it (settlementReport; the last ended month unless ?month=YYYY-MM says otherwise,
 * with the months either side linked), its CSV (settlementCsv) as a download, and the close of a month that is over
 * (closeSettlement, confirmed with a tick), posted as the operator signed in. Closing is idempotent: a month closed
 * already says so and posts nothing.
 */
export function consoleSettlementRoutes(deps: ConsoleSettlementDeps): Router {
  const router = new Router({ prefix: '/admin/settlement' });
  router.use(inEnglish, deps.parseBody, deps.requireConsoleOperator);

  /** The month asked for, checked as the API checks it: none or empty means the last ended month. */
  function monthOf(asked: unknown) {
    return monthField.safeParse(asked === undefined || asked === '' ? lastEndedMonth(deps.ledger) : asked);
  }

  /**
   * The page for the month `asked` (the query's or the form's, unchecked): its report, or for a month that is not one
   * a 400 with the month picker refilled and no report.
   */
  async function page(ctx: Context, asked: unknown, opts: Shown = {}): Promise<void> {
    const parsed = monthOf(asked);
    const month = parsed.success ? parsed.data : null;
    const report = month ? (opts.report ?? (await settlementReport(deps.ledger, month))) : null;
    const lastEnded = lastEndedMonth(deps.ledger);
    await sendConsolePage(ctx, deps.render, 'admin/settlement', {
      title: month ? `Settlement for ${month}` : 'Settlement',
      csrf: csrfToken(ctx, PURPOSE),
      typed: month ?? (typeof asked === 'string' ? asked : ''),
      report,
      lines: report ? report.sites.map(shownLine) : [],
      totals: report ? shownTotals(report) : null,
      // Nothing to see before the first month a month can be, nor after the one going on.
      previous: month && monthRange(shiftMonth(month, -1)) ? shiftMonth(month, -1) : null,
      next: month && month <= lastEnded ? shiftMonth(month, 1) : null,
      closable: report !== null && report.complete && report.sites.some((s) => !s.closed),
      error: opts.error ?? (parsed.success ? null : parsed.error.issues[0]!.message),
      fields: opts.fields ?? {},
      notice: opts.notice ?? null,
    }, opts.status ?? (parsed.success ? 200 : 400));
  }

  router.get('/', async function showSettlement(ctx) {
    await page(ctx, ctx.query.month);
  });

  router.get('/csv', async function downloadSettlementCsv(ctx) {
    const parsed = monthOf(ctx.query.month);
    if (!parsed.success) return page(ctx, ctx.query.month);
    const report = await settlementReport(deps.ledger, parsed.data);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="settlement-${report.month}.csv"`);
    ctx.body = settlementCsv(report);
  });

  // The answer is the page itself, not a redirect: its counts are the close's own, which an address could only carry
  // as figures anyone can write. Posted again (a reload), the close posts nothing and says the month was closed already.
  router.post('/close', async function closeMonthFromConsole(ctx) {
    const { values: raw, refused } = readForm(ctx, ['csrf', 'month', 'confirm']);
    checkCsrf(ctx, PURPOSE, raw.csrf);
    if (refused) return page(ctx, raw.month ?? null, { status: 400, error: refused.message, fields: refused.fields ?? {} });
    const parsed = monthField.safeParse(raw.month);
    if (!parsed.success) return page(ctx, raw.month ?? null);
    const month = parsed.data;
    if (raw.confirm !== 'on') return page(ctx, month, { status: 400, error: SOME_FIELDS, fields: { confirm: CONFIRM_CLOSE } });
    try {
      const done = await closeSettlement(deps.ledger, month, String(ctx.state.actor));
      await page(ctx, month, { notice: closedNotice(month, done.closed, done.already), report: done.report });
    } catch (err) {
      const refusal = shownRefusal(ctx, err, 'console form refused');
      await page(ctx, month, { status: refusal.status, error: refusal.message, fields: refusal.fields ?? {} });
    }
  });

  return router;
}
