import { appendAudit } from '../db/audit-log.ts';
import { findAccount } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { isOldEnough } from './age-gate.ts';

/**
 * Whether the holder may enter content rated `requiredAge`. A refusal is audited every time
 * it is decided, so an operator can see minors being kept out (unless `audit` is false: a look ahead).
 */
export async function holderMayEnter(
  db: Db,
  q: { accountId: string; clientId: string; requiredAge: number; /** The holder's, when already read. */ birthdate?: string | undefined },
  { audit = true }: { audit?: boolean } = {},
): Promise<boolean> {
  if (q.requiredAge <= 0) return true;
  const birthdate = q.birthdate ?? (await findAccount(db, q.accountId))?.birthdate;
  if (birthdate && isOldEnough(birthdate, q.requiredAge)) return true;
  if (!audit) return false;
  await appendAudit(db, {
    actor: `account:${q.accountId}`,
    action: 'access.refused_under_age',
    subjectType: 'account',
    subjectId: q.accountId,
    details: { clientId: q.clientId, requiredAge: q.requiredAge },
  });
  return false;
}
