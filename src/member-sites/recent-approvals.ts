import { countSiteApprovalsSince } from '../db/approvals.ts';
import type { Conn } from '../db/knex.ts';

/** The window the operator console counts a site's recent approvals over. */
export const RECENT_DAYS = 30;

/** How many approvals a member site was given in the last RECENT_DAYS days: one index range count, cheap enough for a page. */
export function recentApprovals(conn: Conn, clientId: string): Promise<number> {
  return countSiteApprovalsSince(conn, clientId, RECENT_DAYS);
}
