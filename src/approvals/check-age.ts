import { appendAudit } from '../db/audit-log.ts';
import { findAccount } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { ratingThatRefuses, type AgeCalendar, type AgeRule, type RatedBy } from './age-gate.ts';

/**
 * Whether the holder is under the age this request needs, and whose rating keeps them out: the member site's own
 * or the higher one the request asked for (null: they may enter). A refusal is audited every time it is decided,
 * so an operator can see minors being kept out (unless `audit` is false: a look ahead). Ages are counted on the
 * deps' calendar (billing.timeZone), as applications count them.
 */
export async function checkAge(
  deps: AgeCalendar & { db: Db },
  q: AgeRule & { accountId: string; clientId: string; /** The holder's, when already read. */ birthdate?: string | undefined },
  { audit = true }: { audit?: boolean } = {},
): Promise<RatedBy | null> {
  if (q.requiredAge <= 0) return null;
  const birthdate = q.birthdate ?? (await findAccount(deps.db, q.accountId))?.birthdate;
  const refused = ratingThatRefuses(q, birthdate, deps);
  if (!refused || !audit) return refused;
  await appendAudit(deps.db, {
    actor: `account:${q.accountId}`,
    action: 'access.refused_under_age',
    subjectType: 'account',
    subjectId: q.accountId,
    details: { clientId: q.clientId, requiredAge: q.requiredAge, siteRating: q.siteRating, ratedBy: refused },
  });
  return refused;
}
