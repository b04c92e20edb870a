import { AppError } from '../errors.ts';

/** Why an approval was refused; each has its own page text and error_description for the site. */
export type RefusalCode =
  | 'card_inactive'
  | 'over_limit'
  | 'site_suspended'
  | 'under_age'
  | 'velocity_exceeded'
  | 'spending_control'
  | 'card_locked'
  | 'delinquent'
  | 'ward_delinquent'
  | 'step_up_required'
  | 'step_up_failed';

/** The holder's words for a lost card; the pages that show them link to the New card number page below them. */
export const LOST_CARD_MESSAGE =
  'This card was reported lost and is blocked. If you already have its new number, use that one; if not, get one on the New card number page.';

/** The holder's words for a card that cannot approve: lost and suspended cards each say what to do. */
export function inactiveCardMessage(status: string | undefined): string {
  if (status === 'lost') return LOST_CARD_MESSAGE;
  if (status === 'suspended') return 'This card is suspended, so it cannot approve payments or sign in. Contact the card manager.';
  return 'This card is not active (closed or replaced), so it cannot sign in or approve payments.';
}

export class ApprovalRefusedError extends AppError {
  readonly refusal: RefusalCode;
  /** The member site's error_description when it can say more than the refusal's usual one (site-descriptions.ts). */
  readonly siteDescription: string | undefined;
  /** The holder's refusal page heading when it can say more than the refusal's usual one (interactions/refusals.ts). */
  readonly heading: string | undefined;
  constructor(refusal: RefusalCode, message: string, opts: { siteDescription?: string; heading?: string } = {}) {
    super(`approval_refused`, message, { status: 403 });
    this.refusal = refusal;
    this.siteDescription = opts.siteDescription;
    this.heading = opts.heading;
  }
}

/** Why a capture, void or refund cannot be done on an approval as it stands (nothing is changed). */
export type ApprovalStateCode =
  | 'approval_not_open'
  | 'hold_expired'
  | 'amount_exceeds_hold'
  | 'amount_exceeds_refundable'
  | 'nothing_to_refund'
  | 'site_suspended';

/** The approval's state does not allow the change: 409, with a code the member site can act on. */
export class ApprovalStateError extends AppError {
  constructor(code: ApprovalStateCode, message: string) {
    super(code, message, { status: 409 });
  }
}

/** An amount that is not a positive integer in minor units within the accepted range: 422. */
export class InvalidAmountError extends AppError {
  constructor(message = 'amount must be a positive integer in minor units (a JSON integer or a string of digits).') {
    super('invalid_amount', message, { status: 422, fields: { amount: message } });
  }
}

/** The interaction already produced an approval (a replayed or double-clicked form): nothing new is held. */
export class DuplicateApprovalError extends AppError {
  constructor() {
    super('already_approved', 'This payment was already approved. Go back to the member site.', { status: 409 });
  }
}

export type DisputeStateCode = 'nothing_to_dispute' | 'dispute_window_closed' | 'already_reported' | 'dispute_decided' | 'nothing_to_refund';

/** A report of a payment (a dispute) that cannot be opened or decided as asked: 409, with a code to act on. */
export class DisputeStateError extends AppError {
  constructor(code: DisputeStateCode, message: string) {
    super(code, message, { status: 409 });
  }
}
