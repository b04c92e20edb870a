import { lockValues } from '../db/advisory-lock.ts';
import { appendAudit } from '../db/audit-log.ts';
import { insertSettlement, nextSettlementId, settlementsFor, siteActivity, takeSiteEntries } from '../db/settlements.ts';
import { inTransaction } from '../db/tx.ts';
import { ValidationError } from '../errors.ts';
import { monthRange, shiftMonth, todayIn } from './calendar.ts';
import type { LedgerDeps } from './deps.ts';
import { HOUSE, post } from './post.ts';

/**
 * The fee on a site's net (captured − refunds − chargebacks: the site is paid a fee on none of what went back) for a period, in whole minor units: net × basis points / 10,000, rounded half
 * up (½ a minor unit and more goes up), computed in BigInt so no product can lose precision. A period
 * whose net is zero or negative (more refunded than captured) pays no fee.
 */
export function feeFor(net: number, basisPoints: number): number {
  if (net <= 0 || basisPoints <= 0) return 0;
  return Number((BigInt(net) * BigInt(basisPoints) + 5000n) / 10000n);
}

export interface SettlementLine {
  client_id: string;
  site_name: string;
  currency: string;
  captured: number;
  /** What the site refunded itself, and in how many refunds. */
  refunds: number;
  refund_count: number;
  /** What the operator refunded on holders' reports of payments it upheld, and in how many. */
  chargebacks: number;
  chargeback_count: number;
  /** captured − refunds − chargebacks: what the fee is on. */
  net: number;
  fee_basis_points: number;
  fee: number;
  /** net − fee; negative when more went back than the site captured (it owes the difference). */
  payout: number;
  /**
   * Of the figures above, the entries dated before the month, carried forward: each was written before an earlier
   * month ended but committed after that month was settled, so this settlement takes it. How many, and their net.
   */
  late_count: number;
  late_net: number;
  /** True once `settlement close` posted it to the ledger. */
  closed: boolean;
}

export interface SettlementReport {
  month: string;
  period_start: string;
  period_end: string;
  time_zone: string;
  /** False while the month (plus billing.settleSeconds) has not ended: the figures can still grow. */
  complete: boolean;
  sites: SettlementLine[];
  /** The lines added up: null when they are in several currencies (a sum of KRW and USD is no amount of money). */
  totals: SettlementTotals | null;
  /** The lines added up per currency (none: no lines). */
  totals_by_currency: Record<string, SettlementTotals>;
}

export type SettlementTotals = Pick<SettlementLine, 'captured' | 'refunds' | 'refund_count' | 'chargebacks' | 'chargeback_count' | 'fee' | 'payout'>;

const noTotals = (): SettlementTotals => ({ captured: 0, refunds: 0, refund_count: 0, chargebacks: 0, chargeback_count: 0, fee: 0, payout: 0 });

function range(month: string) {
  const r = monthRange(month);
  if (!r) throw new ValidationError('month must be YYYY-MM.', { month: 'Expected YYYY-MM, e.g. 2026-11.' });
  return r;
}

/**
 * Per member site, for one calendar month of the billing time zone: captured − refunds − chargebacks − fee = payout.
 * A closed month shows the fee it posted; an open one what the ledger says so far, at today's fee rate.
 */
export async function settlementReport(deps: LedgerDeps, month: string, only: { clientId?: string } = {}): Promise<SettlementReport> {
  const { start, end } = range(month);
  const tz = deps.billing.timeZone;
  const closed = new Map((await settlementsFor(deps.db, start, only.clientId)).map((s) => [`${s.clientId} ${s.currency}`, s]));
  const sites: SettlementLine[] = [];
  for (const a of await siteActivity(deps.db, { start, end, timeZone: tz, clientId: only.clientId })) {
    const done = closed.get(`${a.clientId} ${a.currency}`);
    closed.delete(`${a.clientId} ${a.currency}`);
    const bps = done?.feeBasisPoints ?? deps.feeBasisPoints;
    const net = a.captured - a.refunds - a.chargebacks;
    const fee = done?.fee ?? feeFor(net, bps);
    sites.push({
      client_id: a.clientId,
      site_name: a.siteName,
      currency: a.currency,
      captured: a.captured,
      refunds: a.refunds,
      refund_count: a.refundCount,
      chargebacks: a.chargebacks,
      chargeback_count: a.chargebackCount,
      net,
      fee_basis_points: bps,
      fee,
      payout: net - fee,
      late_count: a.lateCount,
      late_net: a.lateNet,
      closed: Boolean(done),
    });
  }
  const byCurrency: Record<string, SettlementTotals> = {};
  for (const s of sites) {
    const t = (byCurrency[s.currency] ??= noTotals());
    for (const k of Object.keys(t) as Array<keyof SettlementTotals>) t[k] += s[k];
  }
  const currencies = Object.keys(byCurrency);
  const totals = currencies.length === 0 ? noTotals() : currencies.length === 1 ? { ...byCurrency[currencies[0]!]! } : null;
  return { month, period_start: start, period_end: end, time_zone: tz, complete: monthOver(deps, end), sites, totals, totals_by_currency: byCurrency };
}

export type SiteSettlement = Omit<SettlementReport, 'sites' | 'totals' | 'totals_by_currency'> & { client_id: string; lines: Array<Omit<SettlementLine, 'client_id' | 'site_name'>> };

/**
 * One member site's own lines of a month's settlement (GET /api/settlements/:month), one per currency: settlementReport
 * for that site alone. A month it had no captures or refunds in reads as zeros in the deployment's currency, at the fee
 * rate it would pay, rather than as nothing, so that a site's reconciliation need not tell "no line" from "not found".
 */
export async function siteSettlement(deps: LedgerDeps, month: string, clientId: string): Promise<SiteSettlement> {
  const { sites, totals: _totals, totals_by_currency: _byCurrency, ...period } = await settlementReport(deps, month, { clientId });
  const lines = sites.map(({ client_id: _id, site_name: _name, ...line }) => line);
  if (!lines.length) {
    const zero = { captured: 0, refunds: 0, refund_count: 0, chargebacks: 0, chargeback_count: 0, net: 0 };
    lines.push({ currency: deps.currency, ...zero, fee_basis_points: deps.feeBasisPoints, fee: 0, payout: 0, late_count: 0, late_net: 0, closed: false });
  }
  return { ...period, client_id: clientId, lines };
}

/** Today in the billing zone, as far as settlement is concerned: the settle margin ago. */
function settledToday(deps: LedgerDeps): string {
  return todayIn(deps.billing.timeZone, new Date((deps.now?.() ?? new Date()).getTime() - deps.billing.settleSeconds * 1000));
}

function monthOver(deps: LedgerDeps, end: string): boolean {
  // The month is over once today (billing zone) is on or after its end date and the settle margin has passed. Dates
  // compared as text must be as long: 9999-12 ends on 10000-01-01, which "2026-…" would otherwise pass.
  const padded = (date: string) => date.padStart(11, '0');
  return padded(settledToday(deps)) >= padded(end);
}

/** The latest month (YYYY-MM) that is over, as settlementReport's `complete` says: the one an operator closes next. */
export function lastEndedMonth(deps: LedgerDeps): string {
  return shiftMonth(settledToday(deps).slice(0, 7), -1);
}

/**
 * Closes a finished month: per site, one settlement row (chargebacks apart from refunds) and one balanced entry —
 * payable(site) +net (the liability is discharged: captures less both kinds of refund), fee_income −fee, cash −payout.
 *
 * A settlement takes every entry of its site not taken yet up to the month's end, and records which
 * (settlement_entries): those dated in the month, and those carried forward (late: dated in a month settled before
 * they committed, as a capture whose transaction was still open when its month closed). Nothing locks the site for
 * a capture, so none is waited for; one committed after the close is taken by the next month's settlement instead,
 * and never twice (the entry is settlement_entries' key). The figures are those of the entries it linked, read back in
 * its transaction, so what it pays is what it took. Idempotent: a site already settled for the month is skipped
 * (advisory lock per site and currency, so two months of one site are not closed at once; unique key as the backstop).
 */
export async function closeSettlement(deps: LedgerDeps, month: string, actor: string): Promise<{ closed: number; already: number; report: SettlementReport }> {
  const report = await settlementReport(deps, month);
  if (!report.complete) throw new ValidationError(`The month ${month} has not ended yet: it can be reported but not closed.`, { month: 'Not over yet.' });
  let closed = 0;
  let already = 0;
  for (const s of report.sites.filter((x) => !x.closed)) {
    const done = await inTransaction(deps.db, async (trx) => {
      await lockValues(trx, [`settlement:${s.client_id}:${s.currency}`]);
      if ((await settlementsFor(trx, report.period_start, s.client_id)).some((x) => x.currency === s.currency)) return false;
      const id = await nextSettlementId(trx);
      const period = { start: report.period_start, end: report.period_end, timeZone: report.time_zone };
      const a = await takeSiteEntries(trx, { settlementId: id, clientId: s.client_id, currency: s.currency, ...period });
      const net = a.captured - a.refunds - a.chargebacks;
      const fee = feeFor(net, s.fee_basis_points);
      const payout = net - fee;
      const entryId =
        net === 0
          ? null
          : await post(trx, {
              kind: 'settlement',
              approvalId: null,
              currency: s.currency,
              memo: `settlement ${s.client_id} ${month}`,
              legs: [
                { kind: 'payable', ownerId: s.client_id, amount: net },
                { kind: 'fee_income', ownerId: HOUSE, amount: -fee },
                { kind: 'cash', ownerId: HOUSE, amount: -payout },
              ],
            });
      const inserted = await insertSettlement(trx, {
        id,
        clientId: s.client_id,
        ...period,
        currency: s.currency,
        captured: a.captured,
        refunds: a.refunds,
        chargebacks: a.chargebacks,
        feeBasisPoints: s.fee_basis_points,
        fee,
        payout,
        entryId,
      });
      if (!inserted) throw new Error(`settlement of ${s.client_id} for ${month} appeared under its lock`);
      await appendAudit(trx, {
        actor,
        action: 'settlement.closed',
        subjectType: 'member_site',
        subjectId: s.client_id,
        details: { month, currency: s.currency, captured: a.captured, refunds: a.refunds, chargebacks: a.chargebacks, fee, payout, late_count: a.lateCount, late_net: a.lateNet },
      });
      return true;
    });
    if (done) closed++;
    else already++;
  }
  already += report.sites.filter((x) => x.closed).length;
  return { closed, already, report: await settlementReport(deps, month) };
}

/** The report as CSV (RFC 4180; a header line, one line per site, amounts in minor units). */
export function settlementCsv(r: SettlementReport): string {
  const cols = ['month', 'client_id', 'site_name', 'currency', 'captured', 'refunds', 'refund_count', 'chargebacks', 'chargeback_count', 'net', 'fee_basis_points', 'fee', 'payout', 'late_count', 'late_net', 'closed'] as const;
  const cell = (v: unknown) => {
    const s = String(v);
    // A leading = + - @ would be a formula in a spreadsheet: quote-prefix it.
    const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
    // Quoted with a ";" too: a spreadsheet whose list separator is ";" splits an unquoted cell there, and what follows
    // (a site's own name: "Acme;=cmd|…") would begin a cell of its own, a formula.
    return /[",;\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [cols.join(',')];
  for (const s of r.sites) lines.push(cols.map((c) => cell(c === 'month' ? r.month : s[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
