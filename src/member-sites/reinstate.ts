import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSiteForUpdate, updateMemberSite } from '../db/member-sites.ts';
import { inTransaction } from '../db/tx.ts';
import { ConflictError } from '../errors.ts';
import { checkReason, type SiteStatusChanged } from './suspend.ts';
import { noSuchSite } from './list.ts';

/** Lifts a suspension; an active site stays as it is (changed: false), a closed one cannot come back. */
export async function reinstateSite(db: Db, clientId: string, reason: string, actor = 'operator'): Promise<SiteStatusChanged> {
  const why = checkReason(reason);
  return inTransaction(db, async (trx) => {
    const site = await findMemberSiteForUpdate(trx, clientId);
    if (!site) throw noSuchSite(clientId);
    if (site.status === 'closed') throw new ConflictError(`Member site ${clientId} is closed.`);
    if (site.status === 'active') return { site, changed: false };
    await updateMemberSite(trx, clientId, { status: 'active', statusReason: why });
    await appendAudit(trx, { actor, action: 'member_site.reinstated', subjectType: 'member_site', subjectId: clientId, details: { reason: why } });
    return { site: { ...site, status: 'active', statusReason: why }, changed: true };
  });
}
