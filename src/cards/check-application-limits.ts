import type { ApplicationCheck } from '../db/applications.ts';
import { refusal } from './application-errors.ts';
import type { ApplicationPolicy } from './application-policy.ts';

/**
 * Throws ip_limit or email_limit when the last 24 hours already hold the configured number of
 * applications from this IP or for this email (counted in the database by checkApplication, so every
 * instance agrees; inside apply()'s locked transaction the count is exact).
 */
export function checkApplicationLimits(policy: ApplicationPolicy, seen: Pick<ApplicationCheck, 'fromIp' | 'forEmail'>): void {
  if (seen.fromIp >= policy.limits.perIpPerDay) throw refusal('ip_limit', policy);
  if (seen.forEmail >= policy.limits.perEmailPerDay) throw refusal('email_limit', policy);
}
