import { countRecentForEmail, countRecentFromIp } from '../db/applications.ts';
import type { Conn } from '../db/knex.ts';
import { refusal } from './application-errors.ts';
import type { ApplicationPolicy } from './application-policy.ts';

/**
 * Throws ip_limit or email_limit when the last 24 hours already hold the configured number of
 * applications from this IP or for this email. Counted in the database, so every instance agrees;
 * inside apply()'s locked transaction the count is exact.
 */
export async function checkApplicationLimits(conn: Conn, policy: ApplicationPolicy, who: { ip: string; email: string }): Promise<void> {
  if ((await countRecentFromIp(conn, who.ip)) >= policy.limits.perIpPerDay) throw refusal('ip_limit', policy);
  if ((await countRecentForEmail(conn, who.email)) >= policy.limits.perEmailPerDay) throw refusal('email_limit', policy);
}
