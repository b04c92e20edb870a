import { findIssuedDuplicatesOfEach, findIssuedWards, findPersonMatchesOfEach, type Application } from '../db/applications.ts';
import { accountsWithActiveCard, findAccountsById } from '../db/cards.ts';
import type { Conn } from '../db/knex.ts';
import { overdueGuardians } from '../db/statements.ts';
import type { ReviewReason } from './application-errors.ts';
import { foldName, onDenyList, type DenyList } from './deny-list.ts';
import type { GuardianStandingPolicy } from './guardian-overdue.ts';
import { familyOf } from './screen-application.ts';

/** What a check of an application in review may find now: a review reason, or what the approval refuses outright. */
export type FindingCode = ReviewReason | 'guardian_inactive' | 'guardian_overdue' | 'too_many_wards';

/**
 * What each finding means, for the operator (English: the operator console and API are). The applicant is not told
 * some of them (UNTOLD_REVIEW_REASONS): the operator is the only one who learns what the check found.
 */
export const FINDINGS: Record<FindingCode, string> = {
  denied: 'the name, email or mobile matches the deny list',
  duplicate_email: "another holder's open card has this email address",
  duplicate_mobile: "another holder's open card has this mobile number",
  duplicate_ward: 'the guardian already has a child with this name and date of birth',
  balance_owed: 'an account with this email address or mobile number still owes money (it may be closed)',
  person_owes: 'an account with this name and date of birth still owes money (it may be closed): the same person, or two people?',
  duplicate_person: 'a holder of an open card has this name and date of birth: the same person with new contacts, or two people?',
  guardian_contacts: "a minor who gave both of the guardian's contacts",
  same_as_guardian: "a minor with the guardian's own name: the guardian applying again as their own child, with another date of birth?",
  guardian_inactive: 'the guardian no longer holds an active card: no one vouches for this minor',
  guardian_overdue: "an overdue statement stops the guardian's card (its own, or a child's it answers for): it cannot vouch for this minor",
  too_many_wards: "the guardian's card already vouches for as many children's cards as one guardian may (cards.maxWardsPerGuardian)",
};

export interface Finding {
  code: FindingCode;
  about: string;
}

/**
 * What the checks of a new application find now for one in review, read without locks, for the operator to see
 * before deciding: the deny list as configured now (an entry may have been added since), the guardian's card and
 * children's places (refusals at approval, recheckApproval), duplicates and debts on the contacts as the approval
 * weighs them, and, never a refusal, other accounts with the name and date of birth. The application's own review
 * reason is shown beside them; it may be among them still, or no longer.
 */
export async function reviewFindings(conn: Conn, app: Application, policy: FindingsPolicy): Promise<Finding[]> {
  return (await reviewFindingsOfEach(conn, [app], policy))[0]!;
}

export interface FindingsPolicy {
  maxWardsPerGuardian: number;
  denyList: DenyList;
  /** config.delinquency with billing.timeZone: whether an overdue statement stops the guardian's card. */
  delinquency: GuardianStandingPolicy;
}

/**
 * reviewFindings for each application of a page (the console's queue lists up to 100), in the order given, in six
 * queries whatever their number: the guardians, which of them hold an active card, which an overdue statement stops,
 * their issued wards, the duplicates and debts on the contacts, the name and date of birth (one statement each, for
 * all the applications).
 */
export async function reviewFindingsOfEach(conn: Conn, apps: readonly Application[], policy: FindingsPolicy): Promise<Finding[][]> {
  if (apps.length === 0) return [];
  const guardianIds = [...new Set(apps.flatMap((a) => (a.guardianAccountId ? [a.guardianAccountId] : [])))];
  const guardians = await findAccountsById(conn, guardianIds);
  const active = await accountsWithActiveCard(conn, [...guardians.keys()]);
  const overdue = await overdueGuardians(conn, [...guardians.keys()], {
    graceDays: policy.delinquency.graceDays,
    timeZone: policy.delinquency.timeZone,
    linked: policy.delinquency.guardianResponsible,
  });
  const wards = await findIssuedWards(conn, [...guardians.keys()]);
  const guardianOf = apps.map((a) => (a.guardianAccountId ? guardians.get(a.guardianAccountId) : undefined));
  const duplicates = await findIssuedDuplicatesOfEach(
    conn,
    apps.map((app, i) => {
      const guardian = guardianOf[i];
      return { accountId: app.accountId!, email: app.email, mobile: app.mobile, family: guardian ? familyOf(guardian, app) : undefined };
    }),
  );
  const persons = await findPersonMatchesOfEach(
    conn,
    apps.map((app) => ({ accountId: app.accountId, legalName: app.legalName, birthdate: app.birthdate, adult: !app.guardianAccountId })),
  );
  return apps.map((app, i) => {
    const codes: FindingCode[] = [];
    if (onDenyList(policy.denyList, app)) codes.push('denied');
    if (app.guardianAccountId) {
      const guardian = guardianOf[i];
      if (guardian && foldName(guardian.legalName) === foldName(app.legalName)) codes.push('same_as_guardian');
      if (!guardian || !active.has(guardian.id)) codes.push('guardian_inactive');
      if (guardian && overdue.has(guardian.id)) codes.push('guardian_overdue');
      // As countIssuedWards counts: the guardian's issued wards but this application's own account.
      if (guardian && (wards.get(guardian.id) ?? []).filter((id) => id !== app.accountId).length >= policy.maxWardsPerGuardian) codes.push('too_many_wards');
    }
    const d = duplicates[i]!;
    if (d.wardInUse) codes.push('duplicate_ward');
    if (d.emailInUse) codes.push('duplicate_email');
    if (d.mobileInUse) codes.push('duplicate_mobile');
    if (!d.wardInUse && !d.emailInUse && !d.mobileInUse && d.owedOnContacts) codes.push('balance_owed');
    const person = persons[i]!;
    if (person.owedByPerson) codes.push('person_owes');
    if (person.personInUse) codes.push('duplicate_person');
    return codes.map((code) => ({ code, about: FINDINGS[code] }));
  });
}
