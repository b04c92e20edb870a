import type { AgeRule, RatedBy } from '../approvals/age-gate.ts';
export { GUARDIAN_OVERDUE_HEADING } from '../ledger/delinquency.ts';
import { inactiveCardMessage, LOST_CARD_MESSAGE, type ApprovalRefusedError, type RefusalCode } from '../approvals/errors.ts';

/** Headings of the holder's refusal page. */
export const HEADINGS: Readonly<Record<RefusalCode, string>> = {
  card_inactive: 'This card cannot be used',
  over_limit: 'Payment not approved',
  site_suspended: 'This member site is suspended',
  under_age: 'Age restricted',
  velocity_exceeded: 'Too many payments for now',
  spending_control: 'Stopped by your own controls',
  card_locked: 'This card is locked for a while',
  delinquent: 'Payment not approved',
  ward_delinquent: "A child's card is overdue",
  step_up_required: 'A second factor is needed',
  step_up_failed: 'Second factor not accepted',
};

/**
 * One sentence per refusal for the holder, shown instead of the domain's detailed message when the
 * page's language has no words for that message (it carries figures built deep in approvals/).
 */
export const HOLDER_SUMMARIES: Readonly<Record<RefusalCode, string>> = {
  card_inactive: 'This card is not active (closed or replaced), so it cannot sign in or approve payments.',
  over_limit: 'This payment is more than your card can take now.',
  site_suspended: 'This member site cannot take payments at the moment.',
  under_age: 'This content is not available for your age.',
  velocity_exceeded: 'This card has reached its limit of payments for now. Try again later.',
  spending_control: 'Your own spending controls refuse this payment. You can change them on your card page.',
  card_locked: 'This card is locked after too many wrong passwords or codes. You can unlock it now by resetting your password.',
  delinquent: 'A statement of this card is overdue. New charges are refused until it is paid.',
  ward_delinquent: "A statement of a child's card you answer for is overdue. New charges on your card are refused until it is paid.",
  step_up_required: 'This payment needs a code from an authenticator app. Set one up on your card page (Second factor), then try again.',
  step_up_failed: 'The code from your authenticator app was not right, or was already used. Nothing was charged.',
};

/**
 * Why the age gate keeps the holder out, in English (the page translates it): the member site's own rating, or
 * only this content's (the request raised it), where the site is just where the content is.
 */
export function ageMessage(by: RatedBy, siteName: string, rule: AgeRule): string {
  return by === 'site'
    ? `${siteName} is rated ${rule.siteRating}+. Your cyber card cannot be used to enter it.`
    : `This content on ${siteName} is for ${rule.requiredAge} and over, so your cyber card cannot be used for it.`;
}

/**
 * Why the holder's own controls (or an overdue statement, the card's or a ward's, with delinquency.blockLogins) stop them at this site, in
 * English (the page translates it). Adult content off names what is for adults: the site, or only this content.
 */
export function controlsMessage(kind: unknown, siteName: string, by?: RatedBy, wardName?: string, guardian = false): string {
  if (kind === 'delinquent' && guardian) {
    return `Your guardian's statement is overdue, so your card cannot be used at ${siteName} until your guardian pays it. Your card page shows the dates.`;
  }
  if (kind === 'ward_delinquent') {
    return `A statement of ${wardName ?? ''}'s card, which you answer for, is overdue, so your card cannot be used at ${siteName} until it is paid. Your page of children's cards shows it.`;
  }
  if (kind === 'delinquent') {
    return `A statement of this card is overdue, so it cannot be used at ${siteName} until it is paid. Your card page shows the statement and how to pay it.`;
  }
  if (kind === 'adult_content_off') {
    return by === 'request'
      ? `You turned adult content off on your card, and this content on ${siteName} is for adults only. You can change this on your card page.`
      : `You turned adult content off on your card, and ${siteName} is for adults only. You can change this on your card page.`;
  }
  return `You have blocked ${siteName} on your card. You can unblock it on your card page.`;
}

/** A link the refusal page shows below its message, for a refusal the holder can undo themselves. */
export interface NextStep {
  href: string;
  label: string;
}

/** What the holder can do about a refusal: a locked card is unlocked by a password reset, a lost one replaced. */
export function nextStepOf(err: ApprovalRefusedError): NextStep | null {
  if (err.refusal === 'card_locked') return { href: '/card/password/reset', label: 'Reset your password to unlock the card' };
  if (err.refusal === 'card_inactive' && err.message === LOST_CARD_MESSAGE) return { href: '/card/reissue', label: 'Get a new card number' };
  // A closed card's former holder still signs in to the card pages to see and pay what is owed (a replaced one's holder,
  // with the new number).
  if (err.refusal === 'card_inactive' && err.message === inactiveCardMessage('closed')) return { href: '/card/signin', label: 'See and pay what you owe on your card pages' };
  return null;
}
