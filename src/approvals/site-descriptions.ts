import type { RatedBy } from './age-gate.ts';
import type { RefusalCode } from './errors.ts';

/**
 * The error_description a member site receives with access_denied, per refusal: the code first (sites
 * branch on it), then words for its developers. Never the holder's figures (caps, spending, balances):
 * those are for the holder's page only.
 */
export const SITE_DESCRIPTIONS: Readonly<Record<RefusalCode, string>> = {
  card_inactive: 'card_inactive: the card is lost, suspended or closed.',
  over_limit: "over_limit: the payment is above the card's available credit.",
  site_suspended: 'site_suspended: this member site is suspended by the card manager.',
  under_age: 'under_age: the card holder is under the age this content requires.',
  velocity_exceeded: 'velocity_exceeded: the card has reached its limit of payments for now; the holder may try later.',
  spending_control: "spending_control: the card holder's own spending controls refuse this request.",
  card_locked: 'card_locked: the card is locked for a while after too many failed attempts.',
  delinquent: 'delinquent: the card has an overdue statement.',
  ward_delinquent: "ward_delinquent: a minor's card linked to this card, which this card answers for, has an overdue statement.",
  step_up_required: 'step_up_required: the payment needs a second factor the card holder has not set up.',
  step_up_failed: 'step_up_failed: the second-factor code was wrong or already used.',
};

/**
 * The holder's own choice, Deny on a payment or Cancel on a page, coded like the refusals so a site branches on the
 * description's first word alike (a site can tell "the holder said no" from "the card manager said no").
 */
export const HOLDER_CHOICE_DESCRIPTIONS = {
  declined: 'declined: the card holder declined the payment.',
  cancelled: 'cancelled: the card holder cancelled the request.',
} as const;

/**
 * under_age as precisely as the card manager knows it: whether the member site's own content rating keeps the
 * holder out, or only the higher rating this request asked for (its authorization_details `rating`, or an
 * age_over_NN in its claims request): the holder may still enter the site. The code stays first and the same.
 */
export const UNDER_AGE_DESCRIPTIONS: Readonly<Record<RatedBy, string>> = {
  site: "under_age: the card holder is under the age this content requires (the member site's own content rating).",
  request: "under_age: the card holder is under the age this content requires (the rating this request asked for, above the member site's own).",
};
