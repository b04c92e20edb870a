import { contactsInUse } from '../db/applications.ts';
import type { Account } from '../db/cards.ts';
import { findAccount } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { ageOn } from '../lib/clock.ts';
import type { RefusalReason, ReviewReason } from './application-errors.ts';
import type { ApplicationDeps } from './application-deps.ts';
import type { ApplicationInput } from './application-input.ts';
import { onDenyList } from './deny-list.ts';
import { verifyCredentials } from './verify-credentials.ts';

export interface Screening {
  age: number;
  refusal?: RefusalReason;
  review?: ReviewReason;
  /** The verified guardian's account, for an applicant under the adult age. */
  guardian?: Account;
}

/** A minor's guardian: an active card proven by its number and password, held by an adult. */
async function checkGuardian(deps: ApplicationDeps, input: ApplicationInput, now: Date): Promise<RefusalReason | Account> {
  if (!input.guardian) return 'guardian_required';
  let accountId: string;
  try {
    accountId = (await verifyCredentials(deps.cards, input.guardian.cardNumber, input.guardian.password)).accountId;
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return 'guardian_invalid';
    throw err;
  }
  const guardian = await findAccount(deps.cards.db, accountId);
  if (!guardian) return 'guardian_invalid';
  if (ageOn(guardian.birthdate, now) < deps.policy.adultAge) return 'guardian_not_adult';
  return guardian;
}

/** Which open card already has this email or mobile, as a refusal or review reason. */
export async function duplicateOf(
  conn: Conn,
  input: ApplicationInput,
  exceptAccountId: string | undefined,
): Promise<'duplicate_email' | 'duplicate_mobile' | undefined> {
  const used = await contactsInUse(conn, { email: input.email, mobile: input.mobile, exceptAccountId });
  return used.email ? 'duplicate_email' : used.mobile ? 'duplicate_mobile' : undefined;
}

/**
 * The automatic checks that can run before any lock: age, deny list, guardian (one argon2 verify),
 * and a first look for duplicates so a refused duplicate costs no password hash. apply() repeats the
 * duplicate check under its lock, where it is authoritative.
 */
export async function screenApplication(deps: ApplicationDeps, input: ApplicationInput, now: Date): Promise<Screening> {
  const { policy } = deps;
  const age = ageOn(input.birthdate, now);
  if (age < policy.minimumAge) return { age, refusal: 'too_young' };
  let review: ReviewReason | undefined;
  if (onDenyList(policy.denyList, input)) {
    if (policy.denyListAction === 'refuse') return { age, refusal: 'denied' };
    review = 'denied';
  }
  let guardian: Account | undefined;
  if (age < policy.adultAge) {
    const g = await checkGuardian(deps, input, now);
    if (typeof g === 'string') return { age, refusal: g };
    guardian = g;
  }
  const duplicate = await duplicateOf(deps.cards.db, input, guardian?.id);
  if (duplicate && policy.duplicates === 'refuse') return { age, refusal: duplicate };
  review ??= duplicate;
  return { age, ...(review ? { review } : {}), ...(guardian ? { guardian } : {}) };
}
