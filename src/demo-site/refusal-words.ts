/**
 * What the demo tells its visitor when the card manager sends them back without a code. The card manager's
 * `error_description` is for the site's developers: it starts with a machine code ("under_age: …") that a site
 * branches on, then shows its own words. The code list is the README's ("Handle the callback").
 */
export interface RefusalWords {
  heading: string;
  /** One sentence saying what happened, in the visitor's terms. */
  sentence: string;
  /** What the visitor can do about it, when there is something. */
  nextStep: string | null;
}

/** The code an `error_description` starts with ("over_limit: …" → "over_limit"), or undefined when it has none. */
export function refusalCodeOf(description: string | undefined): string | undefined {
  return /^([a-z_]+):/.exec(description ?? '')?.[1];
}

/**
 * The visitor's words for a refused or failed log-in, purchase or entry to a free 19+ item: `error` and
 * `error_description` as the callback received them; `item` with the refused item's rating (the 19+ section), if any,
 * and `entry` when it was free (nothing was being bought). An unknown code gets a general sentence; the code itself
 * is never shown.
 */
export function refusalWords(
  error: string | undefined,
  description: string | undefined,
  item?: { rating?: string | undefined; entry?: boolean },
): RefusalWords {
  const code = error === 'access_denied' ? refusalCodeOf(description) : undefined;
  const what = item?.entry ? 'Entry' : item ? 'Purchase' : 'Log-in';
  const heading = code === 'declined' || code === 'cancelled' ? `${what} cancelled` : error === 'access_denied' ? `${what} refused` : `${what} failed`;
  return { heading, ...explain(error, code, item?.rating) };
}

/** The sentence and the next step for one code. */
function explain(error: string | undefined, code: string | undefined, rating: string | undefined): Omit<RefusalWords, 'heading'> {
  if (error !== 'access_denied') {
    return { sentence: 'The card manager could not finish this request.', nextStep: 'Please start again from this site.' };
  }
  switch (code) {
    case 'under_age':
      return {
        sentence: rating ? `You must be ${rating} or over to see this section.` : 'This content is not available for your age.',
        nextStep: null,
      };
    case 'over_limit':
      return { sentence: 'Your card does not have enough credit left for this purchase.', nextStep: 'Try another card, or pay your card’s statement and try again.' };
    case 'velocity_exceeded':
      return { sentence: 'Your card has made too many payments in a short time.', nextStep: 'Try again later, or try another card.' };
    case 'spending_control':
      return { sentence: 'The spending controls on your card stop this purchase.', nextStep: 'You can change them on your card page at the card manager.' };
    case 'card_locked':
      return { sentence: 'Your card is locked for a while after too many wrong passwords or codes.', nextStep: 'Try again later, or unlock it by resetting your password at the card manager.' };
    case 'card_inactive':
      return { sentence: 'This card cannot be used: it is lost, suspended or closed.', nextStep: 'Try another card, or ask the card manager.' };
    case 'delinquent':
      return { sentence: 'Your card has an overdue statement, so it cannot pay for now.', nextStep: 'Pay the statement at the card manager, then try again.' };
    case 'ward_delinquent':
      return { sentence: 'A card your card answers for (a child’s) has an overdue statement, so your card cannot pay for now.', nextStep: 'Pay that statement at the card manager, then try again.' };
    case 'site_suspended':
      return { sentence: 'Payments to this site are paused by the card manager.', nextStep: 'Please try again later.' };
    case 'step_up_required':
      return { sentence: 'This purchase needs a code from an authenticator app, and your card has none set up.', nextStep: 'Set one up on your card page at the card manager (Second factor), then try again.' };
    case 'step_up_failed':
      return { sentence: 'The code from your authenticator app was not accepted.', nextStep: 'Try the purchase again with a new code.' };
    case 'declined':
      return { sentence: 'You declined the payment. Nothing was charged.', nextStep: null };
    case 'cancelled':
      return { sentence: 'You cancelled the log-in.', nextStep: null };
    default:
      return { sentence: 'The card manager did not accept your card for this.', nextStep: 'Try again, try another card, or ask the card manager.' };
  }
}

/**
 * The visitor's words when the demo's own API refuses a bought or members-only item (the resource-server kit's
 * answer: `status`, `error`), with the purchase's approval as the card manager reports it, if there is one. The
 * kit's `error_description` is for developers ("Approval 1234-5678 is revoked"): the demo words it from the
 * approval's status and the error code instead.
 */
export function itemRefusalWords(status: number, error: string | undefined, approval: { status: string } | null): string {
  if (status === 503 || error === 'temporarily_unavailable') {
    return 'The card manager could not confirm your purchase just now. Please try again in a moment.';
  }
  if (approval && ['revoked', 'voided', 'expired'].includes(approval.status)) {
    return 'This purchase no longer counts: it was cancelled (a card reported lost or blocked cancels its purchases). Nothing more is charged; buy it again to see it.';
  }
  if (error === 'insufficient_scope') return 'Your log-in does not cover this item. Please log in again.';
  if (error === 'invalid_token') return 'Your access to this item has run out. Please log in again, or buy it again, to see it.';
  return 'The site could not let you see this item just now. Please try again.';
}
