import type { RefusalCode } from '../approvals/errors.ts';

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
  step_up_required: 'This payment needs a code from an authenticator app. Set one up on your card page (Second factor), then try again.',
  step_up_failed: 'The code from your authenticator app was not right, or was already used. Nothing was charged.',
};
