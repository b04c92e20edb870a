import type { Conn } from './knex.ts';
import { jsonValue } from './rows.ts';

/** Limits the holder sets on the account (they survive a reissue). Amounts in minor units; null: none. */
export interface SpendingControls {
  maxPerApproval: number | null;
  monthlyCap: number | null;
  /** client_ids of member sites the holder refuses to pay or enter. */
  blockedSites: string[];
  adultContentOff: boolean;
}

/** The controls from an accounts row (they are its columns). */
export function toControls(r: Record<string, unknown>): SpendingControls {
  return {
    maxPerApproval: r.max_per_approval === null ? null : Number(r.max_per_approval),
    monthlyCap: r.monthly_cap === null ? null : Number(r.monthly_cap),
    blockedSites: jsonValue<string[]>(r.blocked_sites),
    adultContentOff: Boolean(r.adult_content_off),
  };
}

export async function findSpendingControls(conn: Conn, accountId: string): Promise<SpendingControls | undefined> {
  const r = (await conn('accounts')
    .select('max_per_approval', 'monthly_cap', 'blocked_sites', 'adult_content_off')
    .where({ id: accountId })
    .first()) as Record<string, unknown> | undefined;
  return r ? toControls(r) : undefined;
}

export async function setSpendingControls(conn: Conn, accountId: string, c: SpendingControls): Promise<void> {
  await conn('accounts')
    .where({ id: accountId })
    .update({
      max_per_approval: c.maxPerApproval,
      monthly_cap: c.monthlyCap,
      blocked_sites: JSON.stringify(c.blockedSites),
      adult_content_off: c.adultContentOff,
    });
}

/**
 * Approvals of an account's card in the last hour and day, and the amount of the last day: velocity limits. Counted
 * on the account, which holds one open card at a time, so a reissued card carries on its predecessor's counts.
 */
export async function cardVelocity(conn: Conn, accountId: string): Promise<{ lastHour: number; lastDay: number; amountLastDay: number }> {
  const r = (await conn('approvals')
    .where({ account_id: accountId })
    .andWhere('created_at', '>', conn.raw("now() - interval '1 day'"))
    .select(
      conn.raw("count(*) FILTER (WHERE created_at > now() - interval '1 hour') AS last_hour"),
      conn.raw('count(*) AS last_day'),
      conn.raw('COALESCE(sum(amount), 0) AS amount_last_day'),
    )
    .first()) as Record<string, unknown>;
  return { lastHour: Number(r.last_hour), lastDay: Number(r.last_day), amountLastDay: Number(r.amount_last_day) };
}

/** The first instant of this calendar month in a time zone (SQL; binds the zone twice). */
export const MONTH_START_SQL = "date_trunc('month', now() AT TIME ZONE ?) AT TIME ZONE ?";

/** What approvals still cost, summed (SQL): amount less released and refunded; `p` prefixes the columns (`p.`). */
export function stillCostSql(p = ''): string {
  return `COALESCE(sum(${p}amount - ${p}released_amount - ${p}refunded_amount), 0)`;
}

const SPENT = `${stillCostSql()} AS spent`;

/**
 * What the account's approvals of this calendar month still cost: amount less released and refunded.
 * The month is the holder's, in `timeZone` (the billing time zone, as statements count it), not UTC's.
 */
export async function monthSpend(conn: Conn, accountId: string, timeZone = 'UTC'): Promise<number> {
  const r = (await conn('approvals')
    .where({ account_id: accountId })
    .andWhere('created_at', '>=', conn.raw(MONTH_START_SQL, [timeZone, timeZone]))
    .select(conn.raw(SPENT))
    .first()) as Record<string, unknown>;
  return Number(r.spent);
}
