import { lockValues } from '../db/advisory-lock.ts';
import { checkApplication } from '../db/applications.ts';
import { lockAccount } from '../db/cards.ts';
import type { Db, Trx } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { ageIn } from '../lib/clock.ts';
import { refusal, type RefusalReason } from './application-errors.ts';
import type { ApplicationDeps } from './application-deps.ts';
import { applicationLocks } from './application-locks.ts';
import type { ApplicationInput } from './application-input.ts';
import { checkApplicationLimits } from './check-application-limits.ts';
import { openHolderAccount, type ApplicationOutcome } from './open-holder-account.ts';
import { recordRefusal, type Submission } from './record-refusal.ts';
import { familyOf, findingOf, screenApplication } from './screen-application.ts';

/**
 * `work` in the transaction `db` already is (a request's, src/db/request-scope.ts), else in a new one.
 * A savepoint inside the request's would cost two round trips and protect nothing: what `work` writes
 * is kept whenever it returns, and a throw after its first write is a server error, which rolls the
 * whole request back.
 */
function inOneTransaction<T>(db: Db, work: (trx: Trx) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Trx) : inTransaction(db, work);
}

/**
 * Decides an online application: approved at once (active card), sent to review (pending card), or
 * refused with a reason (ApplicationRefusedError; the refusal is kept, except over a daily limit).
 *
 * Slow work (argon2 for the guardian's password and the new one) runs before the transaction. The
 * transaction takes advisory locks on the IP, email, mobile, name and date of birth (and a minor's guardian), so
 * parallel applications with the same contact details, or by the same person, queue up and the limits and duplicate
 * check inside it are exact: ten at once with one email give one card, ten by one name and date of birth one at once. A former holder whose account still owes is refused on
 * the same contacts, and reviewed on the same name and date of birth; an adult with the name and date of birth of
 * a holder of an open card is reviewed too (findingOf). A guardian vouches for at most cards.maxWardsPerGuardian
 * open children's cards, counted under the guardian account's row lock.
 */
export async function apply(deps: ApplicationDeps, input: ApplicationInput, sub: Submission): Promise<ApplicationOutcome> {
  const { db, hasher } = deps.cards;
  const now = deps.now?.() ?? new Date();
  const person = { ...input, adult: ageIn(input.birthdate, deps.timeZone, now) >= deps.policy.adultAge };
  const who = { ip: sub.ip, email: input.email, mobile: input.mobile, person };
  // A first, unlocked look (limits and duplicates in one query), so a flood over the limit costs no argon2 work.
  const seen = await checkApplication(db, who);
  checkApplicationLimits(deps.policy, seen);
  const screening = await screenApplication(deps, input, now, seen, sub);
  const passwordHash = screening.refusal ? undefined : await hasher.hash(input.password);

  const result = await inOneTransaction(db, async (trx): Promise<{ refused: RefusalReason } | { outcome: ApplicationOutcome }> => {
    await lockValues(trx, applicationLocks({ ...who, ...person, guardianAccountId: screening.guardian?.id }));
    // The guardian's wards are counted under the guardian account's row lock, taken before the count's statement
    // (whose snapshot then holds every ward a transaction before it opened): no two applications both take the last place.
    if (screening.guardian) await lockAccount(trx, screening.guardian.id);
    const checked = await checkApplication(trx, { ...who, family: screening.guardian && familyOf(screening.guardian, input) });
    checkApplicationLimits(deps.policy, checked);
    let refused = screening.refusal;
    let review = screening.review;
    if (!refused) {
      const found = findingOf(deps.policy, checked);
      refused = found.refusal ?? (screening.guardian && checked.openWards >= deps.policy.maxWardsPerGuardian ? 'too_many_wards' : undefined);
      review ??= found.review;
    }
    if (refused) {
      await recordRefusal(trx, input, refused, sub);
      return { refused };
    }
    // Hashed above whenever screening passed, the only way to get here.
    return { outcome: await openHolderAccount(trx, deps, { input, passwordHash: passwordHash!, screening, review, sub }) };
  });
  if ('refused' in result) throw refusal(result.refused, deps.policy);
  return result.outcome;
}
