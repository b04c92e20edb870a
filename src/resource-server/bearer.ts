import { TokenError } from './errors.ts';

/** RFC 6750 §2.1: `Bearer` then one b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The access token from an Authorization header. Tokens in the query string or form body (RFC 6750
 * §2.2, §2.3) are not accepted: they end up in logs and browser history.
 */
export function bearerToken(authorization: string | string[] | undefined): string {
  if (authorization === undefined || authorization === '') {
    throw new TokenError('invalid_token', 'An access token is required.', { missing: true });
  }
  if (Array.isArray(authorization)) throw new TokenError('invalid_request', 'Send one Authorization header.');
  const m = BEARER.exec(authorization);
  if (!m) {
    if (!/^Bearer\b/i.test(authorization)) throw new TokenError('invalid_token', 'Send the access token as a Bearer token.', { missing: true });
    throw new TokenError('invalid_request', 'The Authorization header is not a valid Bearer token.');
  }
  return m[1]!;
}
