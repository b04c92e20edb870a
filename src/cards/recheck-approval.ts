import { lockValues } from '../db/advisory-lock.ts';
import { countIssuedWards, findIssuedDuplicates, type Application, type Duplicates, type Family } from '../db/applications.ts';
import { holdsActiveCardLocked, lockAccount } from '../db/cards.ts';
import type { Trx } from '../db/knex.ts';
import { AppError } from '../errors.ts';
import { applicationLocks } from './application-locks.ts';
import { onDenyList, type DenyList } from './deny-list.ts';
import { guardianOverdue, type GuardianStandingPolicy } from './guardian-overdue.ts';
import { familyOf } from './screen-application.ts';

/** What another account has that the operator approves past only knowingly: a duplicate, or a debt on the contacts. */
export type DuplicateReason = 'duplicate_ward' | 'duplicate_email' | 'duplicate_mobile' | 'balance_owed';

/** Why an approval from review was refused: the stable codes the operator API answers with. */
export type RecheckRefusal = 'denied' | 'guardian_inactive' | 'guardian_overdue' | 'too_many_wards' | DuplicateReason;

/** An approval refused because something changed while the application waited (409); it stays in review. */
export class ApprovalRecheckError extends AppError {
  readonly reason: RecheckRefusal;
  constructor(reason: RecheckRefusal, message: string) {
    super(reason, message, { status: 409 });
    this.reason = reason;
  }
}

export interface RecheckPolicy {
  /** config.cards.duplicates */
  duplicates: 'refuse' | 'review';
  /** The operator has looked at the duplicates found and approves all the same ('review' only). */
  acceptDuplicate: boolean;
  /** config.cards.maxWardsPerGuardian: a hard limit, which no operator approves past. */
  maxWardsPerGuardian: number;
  /** config.cards.denyList compiled (applicationPolicy): the deny list as it is now. */
  denyList: DenyList;
  /** config.cards.denyList.action: with 'review', the match the application was sent to review for is the operator's to judge. */
  denyListAction: 'refuse' | 'review';
  /** config.delinquency with billing.timeZone: the guardian's standing as it is now. */
  delinquency: GuardianStandingPolicy;
}

const FOUND: Record<DuplicateReason, string> = {
  duplicate_ward: 'The guardian already has a child with this name and date of birth who holds an active card.',
  duplicate_email: "Another holder's active card has this application's email address.",
  duplicate_mobile: "Another holder's active card has this application's mobile number.",
  balance_owed: "An account with this application's email address or mobile number still owes money (it may be closed).",
};

/**
 * The refusal of an applicant the deny list matches at approval. One line (the CLI prints it as its error). The entry
 * is the operator's own decision, so no flag goes past it: taking it back is removing the entry.
 */
export const DENIED_AT_APPROVAL =
  'The name, email or mobile matches the deny list (cards.denyList), as configured now. A deny-list entry is an operator decision ' +
  'that no approval goes past (accept_duplicate included): reject the application with a reason, or, if the entry is wrong, ' +
  'remove it from cards.denyList, restart, and approve then.';

export const GUARDIAN_INACTIVE =
  'The guardian no longer holds an active card (it was closed, blocked or reported lost while the application waited), ' +
  'so no one vouches for this minor. Reject the application with a reason, or approve it once the guardian holds an active card again.';

export const GUARDIAN_OVERDUE_AT_APPROVAL =
  "The guardian's card is stopped by an overdue statement (its own, or with delinquency.guardianResponsible a linked child's), " +
  'so it vouches for no new card: the child\'s would be stopped from the start, and it would add credit to a household that is not paying. ' +
  'Reject the application with a reason, or approve it once the statement is paid.';

/** The refusal when the guardian's issued children's cards fill the limit (lowered, say, while this one waited). */
export function tooManyWards(max: number): string {
  return (
    `The guardian's card already vouches for ${max} children's cards, the most one guardian may (cards.maxWardsPerGuardian). ` +
    "Reject the application with a reason, or approve it once one of the guardian's children's cards is closed."
  );
}

function found(d: Duplicates & { owedOnContacts: boolean }): DuplicateReason[] {
  const all: Array<[DuplicateReason, boolean]> = [
    ['duplicate_ward', d.wardInUse],
    ['duplicate_email', d.emailInUse],
    ['duplicate_mobile', d.mobileInUse],
  ];
  const duplicates = all.filter(([, yes]) => yes).map(([reason]) => reason);
  // As apply() weighs them (findingOf): a debt on the contacts counts where no duplicate does, for an open card's
  // holder who has spent this month owes too, and that card is the duplicate already before the operator.
  return duplicates.length === 0 && d.owedOnContacts ? ['balance_owed'] : duplicates;
}

/**
 * What may have changed while an application waited in review, checked again before the operator's approval, in
 * the decision's transaction and under apply()'s advisory locks (so no application with the same email, mobile or
 * guardian is decided meanwhile):
 *
 * - the name, email and mobile are not on the deny list as configured now (onDenyList, the application screening's
 *   match: an entry added after the applicant applied, or one that did not match then). Nothing overrides it, except
 *   that with cards.denyList.action 'review' the match the application was sent to review for ('denied') is the
 *   question the operator was asked, and the approval is the answer;
 * - a minor's guardian still holds an active card (the one that vouched, or its reissue); one closed, blocked or
 *   lost vouches for no one, as it could not have at submission; nor does one an overdue statement stops (its own,
 *   or with delinquency.guardianResponsible a linked child's), which the application is refused for too;
 * - the guardian's other children whose cards were issued are fewer than cards.maxWardsPerGuardian, counted under
 *   the guardian account's row lock as apply() counts them (pending ones are counted when they are approved, so a
 *   limit lowered while several waited admits the first ones approved, up to it);
 * - no other holder's issued (active or suspended) card has the email or mobile, nor, for a minor, is the guardian's
 *   child of this name and date of birth, by apply()'s family rules; and no other account with the email or mobile
 *   still owes (balance_owed, a closed one too), as for a new application. With `duplicates: 'refuse'` any of these
 *   refuses the approval. With 'review' a duplicate is the operator's call: the one the application was sent to
 *   review for was already before them; another one they confirm with `acceptDuplicate`.
 *
 * Throws ApprovalRecheckError, before anything is written. Returns the duplicates approved knowingly, for the audit.
 */
export async function recheckApproval(trx: Trx, app: Application, policy: RecheckPolicy): Promise<DuplicateReason[]> {
  // Checked on the application's own values (what the screening matched); before any lock, for it reads nothing.
  if (onDenyList(policy.denyList, app) && !(policy.denyListAction === 'review' && app.reason === 'denied')) {
    throw new ApprovalRecheckError('denied', DENIED_AT_APPROVAL);
  }
  await lockValues(trx, applicationLocks(app));
  let family: Family | undefined;
  if (app.guardianAccountId) {
    // The guardian's row lock before the count's statement, as in apply(): no two approvals both take the last place.
    const guardian = await lockAccount(trx, app.guardianAccountId);
    if (!guardian || !(await holdsActiveCardLocked(trx, guardian.id))) throw new ApprovalRecheckError('guardian_inactive', GUARDIAN_INACTIVE);
    if (await guardianOverdue(trx, guardian.id, policy.delinquency)) throw new ApprovalRecheckError('guardian_overdue', GUARDIAN_OVERDUE_AT_APPROVAL);
    if ((await countIssuedWards(trx, guardian.id, app.accountId)) >= policy.maxWardsPerGuardian) {
      throw new ApprovalRecheckError('too_many_wards', tooManyWards(policy.maxWardsPerGuardian));
    }
    family = familyOf(guardian, app);
  }
  const duplicates = found(await findIssuedDuplicates(trx, { accountId: app.accountId!, email: app.email, mobile: app.mobile, family }));
  const blocking =
    policy.duplicates === 'refuse' ? duplicates : policy.acceptDuplicate ? [] : duplicates.filter((reason) => reason !== app.reason);
  const [first] = blocking;
  if (first) {
    const what = blocking.map((reason) => FOUND[reason]).join(' ');
    const next =
      policy.duplicates === 'refuse'
        ? "Duplicates are refused (cards.duplicates is 'refuse'), and so are debts on these contacts: reject the application with a reason."
        : 'Reject the application with a reason, or, once you have checked it, approve it again accepting the duplicate ' +
          '(accept_duplicate: true in the API, --accept-duplicate in the CLI).';
    throw new ApprovalRecheckError(first, `${what} ${next}`);
  }
  return duplicates;
}
