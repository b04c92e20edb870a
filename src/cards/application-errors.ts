import { AppError } from '../errors.ts';

/** Why an application was refused: the stable codes an API client can branch on. */
export type RefusalReason =
  | 'too_young'
  | 'denied'
  | 'guardian_required'
  | 'guardian_invalid'
  | 'guardian_not_adult'
  | 'guardian_overdue'
  | 'duplicate_email'
  | 'duplicate_mobile'
  | 'duplicate_ward'
  | 'balance_owed'
  | 'too_many_wards'
  | 'ip_limit'
  | 'email_limit';

/**
 * Why an application waits for a person. `guardian_contacts`: a minor with both the guardian's email and mobile;
 * `duplicate_ward`: the guardian already has a ward with the applicant's name and date of birth; `balance_owed`: an
 * account with the email or mobile still owes (cards.duplicates 'review'); `person_owes`: an account with the
 * applicant's name and date of birth still owes; `duplicate_person`: an adult with the name and date of birth of a
 * holder of an open card (two people may share both, so never a refusal); `same_as_guardian`: a minor whose name is
 * the guardian's own (folded as names are compared): maybe a holder applying as their own child with a false date of
 * birth and new contacts, maybe a child named after a parent.
 */
export type ReviewReason =
  | 'denied'
  | 'duplicate_email'
  | 'duplicate_mobile'
  | 'duplicate_ward'
  | 'balance_owed'
  | 'person_owes'
  | 'duplicate_person'
  | 'guardian_contacts'
  | 'same_as_guardian';

/**
 * Review reasons the applicant is not told (the operator is): they speak of another person's account found by name
 * and date of birth alone, which anyone may know; or (`same_as_guardian`) they would tell someone applying as their own
 * child that the name gave it away, and which field to change next time. The applicant's answer says only that a person looks at it.
 */
export const UNTOLD_REVIEW_REASONS: ReadonlySet<ReviewReason> = new Set<ReviewReason>(['person_owes', 'duplicate_person', 'same_as_guardian']);

const STATUS: Record<RefusalReason, number> = {
  too_young: 403,
  denied: 403,
  guardian_required: 403,
  guardian_invalid: 403,
  guardian_not_adult: 403,
  guardian_overdue: 403,
  duplicate_email: 409,
  duplicate_mobile: 409,
  duplicate_ward: 409,
  balance_owed: 409,
  too_many_wards: 403,
  ip_limit: 429,
  email_limit: 429,
};

/**
 * An application refused by a condition. `code` is the reason (the API's `error`), the message is
 * shown to the applicant, `field` puts it beside the form field it is about. Messages speak only of
 * what the applicant sent: never whose card an email is on, nor which deny-list entry matched.
 */
export class ApplicationRefusedError extends AppError {
  readonly reason: RefusalReason;
  constructor(reason: RefusalReason, message: string, field?: string) {
    super(reason, message, { status: STATUS[reason], ...(field ? { fields: { [field]: message }, fieldCodes: { [field]: reason } } : {}) });
    this.reason = reason;
  }
}

/** What an applicant is told where the guardian's card is stopped by an overdue statement (messages-ko.ts translates it). */
export const GUARDIAN_OVERDUE_REFUSAL =
  "This guardian's card has an overdue statement (its own, or a child's card it answers for), so it cannot vouch for a new card. " +
  'Please apply again once the statement is paid.';

/** The refusal for a reason, with its message and field. */
export function refusal(reason: RefusalReason, policy: { minimumAge: number; adultAge: number; maxWardsPerGuardian: number }): ApplicationRefusedError {
  switch (reason) {
    case 'too_young':
      return new ApplicationRefusedError(reason, `Cyber card holders must be at least ${policy.minimumAge} years old.`, 'birthdate');
    case 'denied':
      return new ApplicationRefusedError(reason, 'We cannot accept this application online. Please contact customer service.');
    case 'guardian_required':
      return new ApplicationRefusedError(
        reason,
        `Applicants under ${policy.adultAge} need a guardian with an active cyber card: enter the guardian's card number and password.`,
        'guardian_card_number',
      );
    case 'guardian_invalid':
      return new ApplicationRefusedError(
        reason,
        "The guardian's card number or password is not correct, or that card is not active.",
        'guardian_card_number',
      );
    case 'guardian_not_adult':
      return new ApplicationRefusedError(reason, `A guardian must be ${policy.adultAge} or older.`, 'guardian_card_number');
    case 'guardian_overdue':
      // Says only that a statement the guardian's card answers for is overdue: not whose, nor how much.
      return new ApplicationRefusedError(reason, GUARDIAN_OVERDUE_REFUSAL, 'guardian_card_number');
    case 'duplicate_email':
      return new ApplicationRefusedError(
        reason,
        'This email address is already registered to a cyber card. If the card is yours, you do not need another; if it is lost, report it lost to get a new number.',
        'email',
      );
    case 'duplicate_mobile':
      return new ApplicationRefusedError(
        reason,
        'This mobile number is already registered to a cyber card. If the card is yours, you do not need another; if it is lost, report it lost to get a new number.',
        'mobile',
      );
    case 'duplicate_ward':
      return new ApplicationRefusedError(
        reason,
        "This guardian's card already vouches for a cyber card holder with this name and date of birth. One person holds one card; if it is lost, report it lost to get a new number.",
        'legal_name',
      );
    case 'balance_owed':
      // Says no more than the duplicate refusals do (and less: not which of the two matched), and nothing of the account.
      return new ApplicationRefusedError(
        reason,
        'An account with this email address or mobile number still owes money. Please settle what is owed first: ' +
          "a former holder can sign in with the closed card's number and password to see what is owed and how to pay it.",
      );
    case 'too_many_wards':
      return new ApplicationRefusedError(
        reason,
        `This guardian's card already vouches for ${policy.maxWardsPerGuardian} cyber cards, the most one guardian may. A child's card that is closed no longer counts.`,
        'guardian_card_number',
      );
    case 'ip_limit':
      return new ApplicationRefusedError(reason, 'Too many applications were sent from your network today. Please try again tomorrow.');
    case 'email_limit':
      return new ApplicationRefusedError(reason, 'Too many applications were sent for this email address today. Please try again tomorrow.', 'email');
  }
}
