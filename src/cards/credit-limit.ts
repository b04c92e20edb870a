import type { ApplicationPolicy } from './application-policy.ts';

/** The credit limit a new card gets: the adult or minor limit from config, a minor's capped by the guardian's. */
export function creditLimitFor(policy: ApplicationPolicy, age: number, guardianLimit?: number): number {
  if (age >= policy.adultAge) return policy.creditLimit.adult;
  return Math.min(policy.creditLimit.minor, guardianLimit ?? 0);
}
