import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';
import { hasControlCharacters } from '../lib/control-characters.ts';
import { parseMinorUnits } from '../lib/money.ts';

/** A validated `payment` authorization detail (RFC 9396), as stored on grants and tokens. */
export interface PaymentDetail {
  type: 'payment';
  amount: number;
  currency: string;
  description: string;
  content_ref?: string;
  rating?: number;
  /** Added by the card manager when the holder approves. */
  approval_no?: string;
}

const ALLOWED_KEYS = new Set(['type', 'amount', 'currency', 'description', 'content_ref', 'rating', 'locations', 'actions']);

export interface PaymentRules {
  currency: string;
  ratings: Readonly<Record<string, number>>;
  /** config payments.requirePar: a payment only through PAR. */
  requirePar?: boolean;
}

/** Reads a rating given as a configured label ("19", "ALL") or its age (19). */
export function parseRating(v: unknown, ratings: Readonly<Record<string, number>>): number | undefined {
  if (typeof v === 'string' && Object.hasOwn(ratings, v)) return ratings[v];
  if (typeof v === 'number' && Object.values(ratings).includes(v)) return v;
  return undefined;
}

function maxAmountOf(client: Client): number | null {
  const v = (client as unknown as Record<string, unknown>)['urn:cybercard:max_amount'];
  return typeof v === 'number' ? v : null;
}

/**
 * Validates one `payment` detail for features.richAuthorizationRequests.types.payment.validate.
 * Amount: integer minor units, as a JSON integer or a string of digits; > 0; ≤ the site's maximum.
 */
export function createPaymentValidator(rules: PaymentRules) {
  return function validatePayment(ctx: KoaContextWithOIDC, detail: Record<string, unknown>, client: Client): void {
    const bad = (msg: string) => new errors.InvalidAuthorizationDetails(msg);
    // Only the site, authenticated at PAR, can push a request; a front-channel one anyone could have written with the
    // site's client_id and redirect_uri. Refused at the authorization endpoint after its redirect_uri was checked, so
    // the error goes back to the site (RFC 6749 §4.1.2.1), before anyone is asked to approve anything.
    if (rules.requirePar && ctx.oidc.route === 'authorization' && !('PushedAuthorizationRequest' in ctx.oidc.entities)) {
      throw Object.assign(new errors.InvalidRequest('payment not pushed'), {
        error_description: 'payments must be pushed through PAR (RFC 9126): send the authorization_details to the pushed authorization request endpoint',
      });
    }
    // One payment per request: the holder approves one amount, and the token carries what was approved.
    if (paymentCount(ctx.oidc.params?.authorization_details) > 1) throw bad('a request carries one payment at most');
    for (const k of Object.keys(detail)) if (!ALLOWED_KEYS.has(k)) throw bad(`unknown payment field "${k}"`);
    const amount = parseMinorUnits(detail.amount);
    if (amount === undefined) throw bad('amount must be a positive whole number of minor units (e.g. "1500")');
    if (detail.currency !== rules.currency) throw bad(`currency must be ${rules.currency}`);
    const max = maxAmountOf(client);
    if (max !== null && amount > max) throw bad(`amount is above this member site's maximum of ${max}`);
    if (typeof detail.description !== 'string' || !detail.description.trim() || detail.description.length > 200) {
      throw bad('description must be 1–200 characters');
    }
    // Shown to the holder, on statements and in notifications, and printed by the operator's CLI.
    if (hasControlCharacters(detail.description)) throw bad('description contains control characters');
    if (detail.content_ref !== undefined && (typeof detail.content_ref !== 'string' || detail.content_ref.length > 200)) {
      throw bad('content_ref must be a string of at most 200 characters');
    }
    if (detail.content_ref !== undefined && hasControlCharacters(detail.content_ref)) throw bad('content_ref contains control characters');
    if (detail.rating !== undefined && parseRating(detail.rating, rules.ratings) === undefined) {
      throw bad(`rating must be one of ${Object.keys(rules.ratings).join(', ')}`);
    }
  };
}

function paymentCount(raw: unknown): number {
  if (typeof raw !== 'string') return 0;
  const list = JSON.parse(raw) as unknown; // oidc-provider parsed it already: it is JSON
  return Array.isArray(list) ? list.filter((d) => (d as { type?: unknown } | null)?.type === 'payment').length : 0;
}

/** A validated payment detail as the card manager keeps it: amount a number, rating an age (a label read). */
export function toPaymentDetail(d: Record<string, unknown>, ratings: Readonly<Record<string, number>>): PaymentDetail {
  return {
    type: 'payment',
    amount: parseMinorUnits(d.amount)!,
    currency: String(d.currency),
    description: String(d.description).trim(),
    ...(typeof d.content_ref === 'string' ? { content_ref: d.content_ref } : {}),
    ...(d.rating !== undefined ? { rating: parseRating(d.rating, ratings)! } : {}),
  };
}

/** The payment details of a request's authorization_details parameter (already validated). */
export function paymentDetailsOf(params: Record<string, unknown>, ratings: Readonly<Record<string, number>>): PaymentDetail[] {
  const raw = params.authorization_details;
  if (typeof raw !== 'string') return [];
  const list = JSON.parse(raw) as Record<string, unknown>[];
  return list.filter((d) => d.type === 'payment').map((d) => toPaymentDetail(d, ratings));
}
