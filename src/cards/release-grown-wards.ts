import { appendAudit } from '../db/audit-log.ts';
import { releaseWardsOfAge } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';

/**
 * A child who comes of age is no longer a ward: the guardian stops seeing their card and spending, setting their
 * limit and hearing of their payments, and no longer answers for them (a guardian's overdue statement or closed cards
 * stop their payments no more). The link ends in one transaction with an audit entry per account, which the former
 * ward's activity shows. The guardian is kept as the former one: siblings still share the guardian's contacts with
 * them (db/applications.ts). A child comes of age on the day the application and the age gate count them adult: at
 * midnight in `timeZone` (billing.timeZone), by `now` (the database's clock when not given). Returns how many were
 * released.
 */
export async function releaseGrownWards(db: Db, p: { adultAge: number; timeZone: string; now?: (() => Date) | undefined }): Promise<number> {
  return inTransaction(db, async (trx) => {
    const released = await releaseWardsOfAge(trx, { adultAge: p.adultAge, timeZone: p.timeZone, at: p.now?.() ?? null });
    await appendAudit(
      trx,
      released.map((r) => ({
        actor: 'system:coming-of-age',
        action: 'account.guardian_released',
        subjectType: 'account',
        subjectId: r.id,
        details: { guardianAccountId: r.guardianId, adultAge: p.adultAge },
      })),
    );
    return released.length;
  });
}
