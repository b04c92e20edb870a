import { siteApprovalsPage, type Approval, type SiteApprovalFilter } from '../db/approvals.ts';
import type { DisputeSummary } from '../db/disputes.ts';
import type { Conn } from '../db/knex.ts';
import { ValidationError } from '../errors.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';

export interface ListForSiteDeps {
  db: Conn;
  /** Signs and checks page cursors (page-cursor.ts). */
  cursorKey: Buffer;
}

export interface SiteListing {
  approvals: Array<{ approval: Approval; dispute: DisputeSummary | undefined }>;
  /** The cursor of the next page; null on the last. */
  next: string | null;
}

/**
 * A page of a member site's approvals for reconciliation, newest first: `limit` of them after the cursor `after`
 * (from the previous page's `next`), each with the holder's report of it. Rows created during a walk land before its
 * first page, so a walk is a stable snapshot of what existed when it began (apart from status changes).
 */
export async function listForSite(deps: ListForSiteDeps, f: Omit<SiteApprovalFilter, 'now'>, page: { limit: number; after?: string | undefined }): Promise<SiteListing> {
  // The cursor holds for this site and these filters only; the page size may change between pages.
  const scope = JSON.stringify([f.clientId, f.since ?? null, f.until ?? null, f.status ?? null]);
  const after = page.after === undefined ? undefined : decodeCursor(deps.cursorKey, scope, page.after);
  if (page.after !== undefined && !after) {
    throw new ValidationError('Some fields need attention.', { after: 'Not a cursor of this listing: pass the `next` of the previous page, with the same filters.' });
  }
  const rows = await siteApprovalsPage(deps.db, { ...f, now: new Date() }, after, page.limit + 1);
  const more = rows.length > page.limit;
  const shown = more ? rows.slice(0, page.limit) : rows;
  return {
    approvals: shown.map(({ approval, dispute }) => ({ approval, dispute })),
    next: more ? encodeCursor(deps.cursorKey, scope, shown[shown.length - 1]!.position) : null,
  };
}
