import { TokenError } from './errors.ts';
import type { AccessToken, PaymentDetail } from './verify.ts';

/**
 * A check on a verified token, run after the signature and claims checks. It throws a TokenError
 * to refuse; `request` is the framework's request (Koa ctx, Express req, node IncomingMessage) for
 * checks that depend on what is asked for (an item's price, say).
 */
export type Requirement<R = unknown> = (token: AccessToken, request: R) => void | Promise<void>;

/** The holder is at least `age`: the token carries `age_over_<age>: true` (the card manager adds it for the site's and the request's rating). */
export function requireAge(age: number): Requirement {
  if (!Number.isInteger(age) || age < 1 || age > 120) throw new TypeError('requireAge takes a whole number of years, 1–120');
  const claim = `age_over_${age}` as const;
  return function ageRequirement(token) {
    if (token[claim] !== true) {
      throw new TokenError('insufficient_scope', `This content is for ${age} and over: the token does not prove ${claim}.`);
    }
  };
}

/** The token carries every one of `scopes` (space-separated or an array) in its `scope` claim. */
export function requireScope(scopes: string | readonly string[]): Requirement {
  const wanted = (typeof scopes === 'string' ? scopes.split(' ') : [...scopes]).filter(Boolean);
  if (!wanted.length) throw new TypeError('requireScope needs at least one scope');
  return function scopeRequirement(token) {
    const granted = new Set(typeof token.scope === 'string' ? token.scope.split(' ') : []);
    const missing = wanted.filter((s) => !granted.has(s));
    if (missing.length) throw new TokenError('insufficient_scope', `The token lacks the scope ${missing.join(' ')}.`, { scope: wanted.join(' ') });
  };
}

export interface PaymentRequirement {
  /** Price in integer minor units of `currency`; the approved amount must be at least this. */
  amount: number;
  /** ISO 4217 code, e.g. KRW. */
  currency: string;
  /** The content the payment was for: the `content_ref` the site sent in authorization_details. */
  content?: string;
}

/** The approved payment detail of a token (the one carrying the token's approval number), if any. */
export function approvedPayment(token: AccessToken): PaymentDetail | undefined {
  if (typeof token.approval_no !== 'string' || !Array.isArray(token.authorization_details)) return undefined;
  return token.authorization_details.find(
    (d): d is PaymentDetail => d.type === 'payment' && (d as PaymentDetail).approval_no === token.approval_no,
  );
}

/**
 * The token carries an approved payment of at least `amount` `currency` for `content`: an
 * authorization_details entry of type payment with the token's approval number.
 */
export function requirePayment(p: PaymentRequirement): Requirement {
  if (!Number.isSafeInteger(p.amount) || p.amount <= 0) throw new TypeError('amount must be a positive whole number of minor units');
  if (!/^[A-Z]{3}$/.test(p.currency)) throw new TypeError('currency must be an ISO 4217 code such as KRW');
  return function paymentRequirement(token) {
    const paid = approvedPayment(token);
    const refuse = (why: string) => {
      throw new TokenError('insufficient_scope', `A payment of ${p.amount} ${p.currency}${p.content ? ` for ${p.content}` : ''} is required: ${why}.`);
    };
    if (!paid) return refuse('the token carries no approved payment');
    if (paid.currency !== p.currency) return refuse(`the approved payment is in ${paid.currency}`);
    if (typeof paid.amount !== 'number' || paid.amount < p.amount) return refuse(`the approved amount is ${paid.amount}`);
    if (p.content !== undefined && paid.content_ref !== p.content) return refuse('the approved payment is for other content');
  };
}
