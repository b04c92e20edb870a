import type { ApplicationPolicy } from './application-policy.ts';
import type { CardDeps } from './deps.ts';
import type { GuardianStandingPolicy } from './guardian-overdue.ts';

/** What applications need from the composition root. */
export interface ApplicationDeps {
  cards: CardDeps;
  policy: ApplicationPolicy;
  /** The zone whose calendar ages are counted in (billing.timeZone): a birthday begins at midnight there. */
  timeZone: string;
  /** config.delinquency (with billing.timeZone): a guardian stopped by an overdue statement vouches for no one. */
  delinquency: GuardianStandingPolicy;
  /** The time ages are computed at; tests may fix it. */
  now?: () => Date;
}
