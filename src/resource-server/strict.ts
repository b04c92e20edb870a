import { TokenError } from './errors.ts';
import type { AccessToken } from './verify.ts';

/** Statuses on which content may still be delivered; anything else (revoked, voided, expired, suspended) stops it. */
export const DELIVERABLE = new Set(['approved', 'captured']);

export interface StrictOptions {
  /** The member site's client_id and secret: the status endpoint answers a site about its own approvals only. */
  clientId?: string;
  clientSecret?: string;
  /**
   * Instead of id and secret: the Authorization header value to send (e.g. a client_credentials Bearer token). Called
   * again with `{ rejected: true }` when the card manager refused the value it gave (401 `invalid_token`: the token
   * expired, or the card manager's keys changed): return a fresh token then, and the status is asked once more.
   */
  authorization?: (context: { rejected: boolean }) => string | Promise<string>;
  /** Default `<issuer>/api/approvals`. */
  statusEndpoint?: string;
  /** How long an answer is reused (default 2 s; 0 asks every time). */
  cacheSeconds?: number;
  /** Give up on the card manager after this long and refuse (default 2000 ms). */
  timeoutMs?: number;
}

export type ApprovalStatusCheck = (token: AccessToken) => Promise<void>;

/** RFC 6749 §2.3.1: form-encoded id and secret, joined by a colon, base64. */
function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

const MAX_CACHED = 10_000;

/**
 * Strict mode: asks the card manager for the current status of the token's approval (GET
 * <statusEndpoint>/<approval_no>, authenticated as the member site), so content stops as soon as the
 * approval is revoked (a lost-card report), voided, or the site is suspended — not when the token
 * expires. Answers are cached for `cacheSeconds`; concurrent checks of one approval share one request.
 * Fails closed: no answer, no content. Tokens without an approval number pass (nothing to ask about).
 */
export function createStatusCheck(issuer: string, opts: StrictOptions): ApprovalStatusCheck {
  const endpoint = (opts.statusEndpoint ?? `${issuer.replace(/\/$/, '')}/api/approvals`).replace(/\/$/, '');
  let authorization: (context: { rejected: boolean }) => string | Promise<string>;
  if (opts.authorization) authorization = opts.authorization;
  else if (opts.clientId && opts.clientSecret) {
    const header = basic(opts.clientId, opts.clientSecret);
    authorization = () => header;
  } else throw new TypeError('strict mode needs the member site’s clientId and clientSecret, or authorization()');
  const ttlMs = (opts.cacheSeconds ?? 2) * 1000;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const cache = new Map<string, { status: string; until: number }>();
  const inFlight = new Map<string, Promise<string>>();

  async function ask(approvalNo: string, rejected: boolean): Promise<Response> {
    try {
      return await fetch(`${endpoint}/${encodeURIComponent(approvalNo)}`, {
        headers: { authorization: await authorization({ rejected }), accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new TokenError('temporarily_unavailable', 'The card manager cannot confirm the approval right now.', { cause: err });
    }
  }

  /** RFC 6750 §3.1: the card manager refused the Bearer token itself (expired, or signed by a withdrawn key). */
  const tokenRefused = (res: Response) => res.status === 401 && /error="invalid_token"/.test(res.headers.get('www-authenticate') ?? '');

  async function fetchStatus(approvalNo: string): Promise<string> {
    let res = await ask(approvalNo, false);
    if (tokenRefused(res) && opts.authorization) {
      // A client_credentials token lives minutes: ask the site's authorization() for a fresh one, once.
      await res.body?.cancel();
      res = await ask(approvalNo, true);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return 'unknown';
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new TokenError('temporarily_unavailable', `The card manager answered ${res.status} for the approval status.`);
    }
    let body: { status?: unknown; captured_amount?: unknown; refunded_amount?: unknown } | null;
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      // A proxy's or captive portal's page, not the card manager's answer: no answer, no content.
      throw new TokenError('temporarily_unavailable', 'The card manager’s answer about the approval could not be read.', { cause: err });
    }
    if (!body || typeof body !== 'object' || typeof body.status !== 'string') {
      throw new TokenError('temporarily_unavailable', 'The card manager’s answer about the approval could not be read.');
    }
    // Everything captured refunded: the holder has the money back, so the content stops too. Measured against what
    // was captured, not the amount approved: a site may capture part and void the rest, and refund that part.
    const { status, captured_amount: captured, refunded_amount: refunded } = body;
    if (status === 'captured' && typeof captured === 'number' && typeof refunded === 'number' && refunded >= captured) return 'refunded';
    return status;
  }

  function statusOf(approvalNo: string): Promise<string> {
    const now = Date.now();
    const hit = cache.get(approvalNo);
    if (hit && hit.until > now) return Promise.resolve(hit.status);
    let pending = inFlight.get(approvalNo);
    if (!pending) {
      pending = fetchStatus(approvalNo)
        .then((status) => {
          if (ttlMs > 0) {
            if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
            cache.set(approvalNo, { status, until: Date.now() + ttlMs });
          }
          return status;
        })
        .finally(() => inFlight.delete(approvalNo));
      inFlight.set(approvalNo, pending);
    }
    return pending;
  }

  return async function checkApprovalStatus(token: AccessToken): Promise<void> {
    if (typeof token.approval_no !== 'string') return;
    // The card manager shows a site only its own approvals: another site's (an API several sites' tokens reach) would
    // read 404, "unknown", as if it did not exist. Say whose it is instead, and ask nothing.
    if (opts.clientId && !opts.authorization && token.client_id !== opts.clientId) {
      throw new TokenError(
        'invalid_token',
        `Approval ${token.approval_no} was made at member site ${token.client_id}; strict mode asks as ${opts.clientId}, which sees only its own approvals.`,
      );
    }
    const status = await statusOf(token.approval_no);
    if (!DELIVERABLE.has(status)) {
      throw new TokenError('invalid_token', `Approval ${token.approval_no} is ${status}: its content can no longer be delivered.`);
    }
  };
}
