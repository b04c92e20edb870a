import { checkApplication, type ApplicationCheck, type Family } from '../db/applications.ts';
import type { Account, Card } from '../db/cards.ts';
import { findAccount } from '../db/cards.ts';
import { InvalidCredentialsError } from '../errors.ts';
import { ageIn } from '../lib/clock.ts';
import type { RefusalReason, ReviewReason } from './application-errors.ts';
import type { ApplicationDeps } from './application-deps.ts';
import type { ApplicationInput } from './application-input.ts';
import type { ApplicationPolicy } from './application-policy.ts';
import { foldName, onDenyList } from './deny-list.ts';
import { guardianOverdue } from './guardian-overdue.ts';
import type { Submission } from './record-refusal.ts';
import { verifyCredentials } from './verify-credentials.ts';

export interface Screening {
  age: number;
  refusal?: RefusalReason;
  review?: ReviewReason;
  /** The verified guardian's account, for an applicant under the adult age. */
  guardian?: Account;
  /** The guardian's card that was proven (number and password). */
  guardianCardId?: string;
}

/** A minor's guardian: an active card proven by its number and password, held by an adult whose card no overdue statement stops. */
async function checkGuardian(
  deps: ApplicationDeps,
  input: ApplicationInput,
  now: Date,
  sub: Submission,
): Promise<RefusalReason | { account: Account; cardId: string }> {
  if (!input.guardian) return 'guardian_required';
  let card: Card;
  try {
    card = await verifyCredentials(deps.cards, input.guardian.cardNumber, input.guardian.password, { page: 'guardian_consent', requestId: sub.requestId });
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return 'guardian_invalid';
    throw err;
  }
  const guardian = await findAccount(deps.cards.db, card.accountId);
  if (!guardian) return 'guardian_invalid';
  if (ageIn(guardian.birthdate, deps.timeZone, now) < deps.policy.adultAge) return 'guardian_not_adult';
  if (await guardianOverdue(deps.cards.db, guardian.id, deps.delinquency)) return 'guardian_overdue';
  return { account: guardian, cardId: card.id };
}

/** Which duplicate the check found, as a refusal or review reason: the same child under the guardian first, the most specific. */
export function duplicateOf(
  seen: Pick<ApplicationCheck, 'emailInUse' | 'mobileInUse' | 'wardInUse'>,
): 'duplicate_ward' | 'duplicate_email' | 'duplicate_mobile' | undefined {
  if (seen.wardInUse) return 'duplicate_ward';
  return seen.emailInUse ? 'duplicate_email' : seen.mobileInUse ? 'duplicate_mobile' : undefined;
}

/**
 * What the check found on other accounts, as the policy takes it. On the applicant's contacts (a duplicate, or an
 * account that still owes): refused, or reviewed, as cards.duplicates says, for an email or mobile is as much one
 * person's when their account is closed and owes as when it is open. On the name and date of birth alone (an account
 * that still owes, or for an adult one holding an open card): always reviewed, for two people may share both, and a
 * refusal would tell anyone who knows them that the other person owes money or holds a card.
 */
export function findingOf(
  policy: Pick<ApplicationPolicy, 'duplicates'>,
  seen: Pick<ApplicationCheck, 'emailInUse' | 'mobileInUse' | 'wardInUse' | 'owedOnContacts' | 'owedByPerson' | 'personInUse'>,
): { refusal?: RefusalReason; review?: ReviewReason } {
  const onContacts = duplicateOf(seen) ?? (seen.owedOnContacts ? 'balance_owed' : undefined);
  if (onContacts && policy.duplicates === 'refuse') return { refusal: onContacts };
  const review = onContacts ?? (seen.owedByPerson ? 'person_owes' : seen.personInUse ? 'duplicate_person' : undefined);
  return review ? { review } : {};
}

/** The family a minor applies in (db/applications.ts Family): which contacts are the guardian's own. */
export function familyOf(
  guardian: Pick<Account, 'id' | 'email' | 'mobile'>,
  applicant: { legalName: string; birthdate: string; email: string; mobile: string },
): Family {
  return {
    guardianAccountId: guardian.id,
    sharesEmail: guardian.email !== null && guardian.email.toLowerCase() === applicant.email.toLowerCase(),
    sharesMobile: guardian.mobile !== null && guardian.mobile === applicant.mobile,
    legalName: applicant.legalName,
    birthdate: applicant.birthdate,
  };
}

/**
 * The automatic checks that can run before any lock: age, deny list, guardian (one argon2 verify),
 * and a first look for duplicates and debts (from `seen`, apply()'s unlocked first look, or again within the
 * guardian's family) so a refused duplicate costs no password hash. apply() repeats the duplicate check
 * under its lock, where it is authoritative.
 */
export async function screenApplication(
  deps: ApplicationDeps,
  input: ApplicationInput,
  now: Date,
  seen: ApplicationCheck,
  sub: Submission,
): Promise<Screening> {
  const { policy } = deps;
  const age = ageIn(input.birthdate, deps.timeZone, now);
  if (age < policy.minimumAge) return { age, refusal: 'too_young' };
  let review: ReviewReason | undefined;
  if (onDenyList(policy.denyList, input)) {
    if (policy.denyListAction === 'refuse') return { age, refusal: 'denied' };
    review = 'denied';
  }
  let guardian: { account: Account; cardId: string } | undefined;
  if (age < policy.adultAge) {
    const g = await checkGuardian(deps, input, now, sub);
    if (typeof g === 'string') return { age, refusal: g };
    guardian = g;
  }
  // A minor may share the guardian's contacts, with siblings too, and must not be the guardian's ward already: look again.
  const contacts = guardian
    ? await checkApplication(deps.cards.db, { ...input, ip: sub.ip, person: { ...input, adult: false }, family: familyOf(guardian.account, input) })
    : seen;
  const found = findingOf(policy, contacts);
  if (found.refusal) return { age, refusal: found.refusal };
  if (guardian && contacts.openWards >= policy.maxWardsPerGuardian) return { age, refusal: 'too_many_wards' };
  // The guardian's own name (folded, as names are compared): maybe a holder applying as their own child, with a
  // false date of birth and new contacts, which no duplicate check sees. Never a refusal: a child may be named after
  // a parent. A person decides; the applicant is not told why (UNTOLD_REVIEW_REASONS).
  if (guardian && foldName(guardian.account.legalName) === foldName(input.legalName)) review ??= 'same_as_guardian';
  review ??= found.review;
  // Both of the guardian's contacts, none of the minor's own: maybe a child without a phone, maybe an adult who
  // already holds a card applying again as their own ward (past the duplicate check, which leaves the guardian
  // and their wards out on the guardian's contacts). A person decides, for each sibling too.
  if (guardian && seen.emailInUse && seen.mobileInUse && sameContact(guardian.account, input)) review ??= 'guardian_contacts';
  return {
    age,
    ...(review ? { review } : {}),
    ...(guardian ? { guardian: guardian.account, guardianCardId: guardian.cardId } : {}),
  };
}

function sameContact(guardian: Account, input: ApplicationInput): boolean {
  return guardian.email?.toLowerCase() === input.email.toLowerCase() && guardian.mobile === input.mobile;
}
