import { appendAudit } from '../db/audit-log.ts';
import { lockAccountFacts } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { findMemberSite } from '../db/member-sites.ts';
import { setSpendingControls, type SpendingControls } from '../db/spending-controls.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError, ValidationError } from '../errors.ts';

/** What a loosening asks for, beside the field: the password, which the holder types again. */
export const LOOSENING_NEEDS_PASSWORD = 'Type your card password to raise or remove a limit, unblock a site or allow adult content.';

/** Whether `next` lets through anything `before` refused: a limit raised or removed, a site unblocked, adult content allowed. */
export function loosens(before: SpendingControls, next: SpendingControls): boolean {
  const raised = (was: number | null, now: number | null) => was !== null && (now === null || now > was);
  return (
    raised(before.maxPerApproval, next.maxPerApproval) ||
    raised(before.monthlyCap, next.monthlyCap) ||
    (before.adultContentOff && !next.adultContentOff) ||
    before.blockedSites.some((s) => !next.blockedSites.includes(s))
  );
}

/**
 * The holder replaces their spending controls (all four at once), under the account row lock so an
 * approval in flight sees either the old or the new controls. Blocked sites must be registered member
 * sites. Audited with the controls before (`previous`) and the account's currency, so that the holder's activity
 * can say what changed. Loosening them (loosens(), judged under the lock against the controls in force) needs the
 * card password typed again (`reauthenticated`, proven by the caller): a holder page left signed in must not lift
 * the limits its holder set; tightening never does, so a worried holder is never slowed.
 */
export async function setControls(
  db: Db,
  holder: { accountId: string; actor: string; requestId?: string | undefined; reauthenticated: boolean },
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
    if (!holder.reauthenticated && loosens(before.controls, next)) throw new ValidationError(LOOSENING_NEEDS_PASSWORD, { password: LOOSENING_NEEDS_PASSWORD });
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
