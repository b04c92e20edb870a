import { appendAudit } from '../db/audit-log.ts';
import { lockAccountFacts } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSite } from '../db/member-sites.ts';
import { setSpendingControls, type SpendingControls } from '../db/spending-controls.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError, ValidationError } from '../errors.ts';

/**
 * The holder replaces their spending controls (all four at once), under the account row lock so an
 * approval in flight sees either the old or the new controls. Blocked sites must be registered member
 * sites. Audited with the controls before (`previous`) and the account's currency, so that the holder's activity
 * can say what changed.
 */
export async function setControls(
  db: Db,
  holder: { accountId: string; actor: string; requestId?: string | undefined },
  controls: SpendingControls,
): Promise<SpendingControls> {
  const blockedSites = [...new Set(controls.blockedSites)];
  for (const clientId of blockedSites) {
    if (!(await findMemberSite(db, clientId))) {
      throw new ValidationError('Some fields need attention.', { blocked_sites: `There is no member site "${clientId}".` });
    }
  }
  const next = { ...controls, blockedSites };
  return inTransaction(db, async (trx) => {
    const before = await lockAccountFacts(trx, holder.accountId);
    if (!before) throw new NotFoundError('No such account.');
    await setSpendingControls(trx, holder.accountId, next);
    await appendAudit(trx, {
      actor: holder.actor,
      action: 'account.controls_changed',
      subjectType: 'account',
      subjectId: holder.accountId,
      details: { ...next, previous: before.controls, currency: before.account.currency },
      requestId: holder.requestId,
    });
    return next;
  });
}
