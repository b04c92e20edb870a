import { appendAudit } from '../db/audit-log.ts';
import type { Db } from '../db/knex.ts';
import { findSpendingControls, type SpendingControls } from '../db/spending-controls.ts';

export type EntryRefusal = 'blocked_site' | 'adult_content_off';

/**
 * Whether the holder's own controls keep them out of this member site: a site they blocked, or content
 * rated `adultAge` or over while they have turned adult content off. A refusal is audited (unless `audit` is false).
 */
export async function holderRefusesEntry(
  db: Db,
  q: { accountId: string; clientId: string; requiredAge: number; adultAge: number; /** When already read. */ controls?: SpendingControls | undefined },
  { audit = true }: { audit?: boolean } = {},
): Promise<EntryRefusal | null> {
  const c = q.controls ?? (await findSpendingControls(db, q.accountId));
  if (!c) return null;
  const refusal: EntryRefusal | null = c.blockedSites.includes(q.clientId)
    ? 'blocked_site'
    : c.adultContentOff && q.requiredAge >= q.adultAge
      ? 'adult_content_off'
      : null;
  if (refusal && audit) {
    await appendAudit(db, {
      actor: `account:${q.accountId}`,
      action: 'access.refused_by_holder_controls',
      subjectType: 'account',
      subjectId: q.accountId,
      details: { clientId: q.clientId, refusal, requiredAge: q.requiredAge },
    });
  }
  return refusal;
}
