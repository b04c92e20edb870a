import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSiteForUpdate, updateMemberSite, type MemberSite } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { noSuchSite } from './list.ts';

/** Why a site's status changes: kept on the row and in the audit log. */
export function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || !reason.trim() || reason.length > 500) {
    throw new ValidationError('Some fields need attention.', { reason: 'Say why, in 1 to 500 characters (it goes into the audit trail).' });
  }
  return reason.trim();
}

/** A status change of a member site: `changed` is false when the site was in that status already (nothing written). */
export interface SiteStatusChanged {
  site: MemberSite;
  changed: boolean;
}

/**
 * Suspends a member site: its approvals read as suspended through the API at once (resource servers
 * in strict mode stop delivering). Starting new flows is refused by the interaction policy.
 * Suspending a suspended site changes nothing (changed: false); a closed one cannot be suspended.
 */
export async function suspendSite(db: Db, clientId: string, reason: string, actor = 'operator'): Promise<SiteStatusChanged> {
  const why = checkReason(reason);
  return inTransaction(db, async (trx) => {
    const site = await findMemberSiteForUpdate(trx, clientId);
    if (!site) throw noSuchSite(clientId);
    if (site.status === 'closed') throw new ConflictError(`Member site ${clientId} is closed.`);
    if (site.status === 'suspended') return { site, changed: false };
    await updateMemberSite(trx, clientId, { status: 'suspended', statusReason: why });
    await appendAudit(trx, { actor, action: 'member_site.suspended', subjectType: 'member_site', subjectId: clientId, details: { reason: why } });
    return { site: { ...site, status: 'suspended', statusReason: why }, changed: true };
  });
}
