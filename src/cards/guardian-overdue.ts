import { overdueForAccount } from '../db/statements.ts';
import type { Conn } from '../db/knex.ts';

/** config.delinquency with billing.timeZone, as far as a guardian's standing needs it. */
export interface GuardianStandingPolicy {
  graceDays: number;
  /** delinquency.guardianResponsible: the guardian answers for the linked minors' statements too. */
  guardianResponsible: boolean;
  timeZone: string;
}

/**
 * Whether a guardian's card is stopped by an overdue statement: its own, or (with delinquency.guardianResponsible) a
 * linked minor's (`ward_delinquent`). Such a guardian vouches for no new minor: the new card would be stopped from the
 * start where the guardian answers for it, and it would add credit to a household that is not paying.
 */
export async function guardianOverdue(conn: Conn, guardianAccountId: string, p: GuardianStandingPolicy): Promise<boolean> {
  const found = await overdueForAccount(conn, guardianAccountId, { graceDays: p.graceDays, timeZone: p.timeZone, linked: p.guardianResponsible });
  // A guardian has no guardian of their own (an adult's link is released), so 'own' and 'ward' are all it finds.
  return found.length > 0;
}
