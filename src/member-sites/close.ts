import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSiteForUpdate, updateMemberSite } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { checkReason, type SiteStatusChanged } from './suspend.ts';
import { noSuchSite } from './list.ts';

/**
 * Closes a member site for good: the provider no longer finds the client (no flow, no token, no
 * refresh), its secrets are wiped, and the row stays for the approvals and the audit trail that
 * name it. Closing a closed site changes nothing (changed: false).
 */
export async function closeSite(db: Db, clientId: string, reason: string, actor = 'operator'): Promise<SiteStatusChanged> {
  const why = checkReason(reason);
  return inTransaction(db, async (trx) => {
    const site = await findMemberSiteForUpdate(trx, clientId);
    if (!site) throw noSuchSite(clientId);
    if (site.status === 'closed') return { site, changed: false };
    await updateMemberSite(trx, clientId, {
      status: 'closed',
      statusReason: why,
      clientSecretHash: null,
      previousSecretHash: null,
      previousSecretExpiresAt: null,
    });
    await appendAudit(trx, { actor, action: 'member_site.closed', subjectType: 'member_site', subjectId: clientId, details: { reason: why } });
    return {
      site: { ...site, status: 'closed', statusReason: why, clientSecretHash: null, previousSecretHash: null, previousSecretExpiresAt: null },
      changed: true,
    };
  });
}
