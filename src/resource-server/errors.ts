/**
 * RFC 6750 §3.1 error codes, plus `temporarily_unavailable` when strict mode cannot reach the card
 * manager (the kit fails closed: no status, no content).
 */
export type TokenErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

const STATUS: Record<TokenErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

/** Why a request was refused; the adapters turn it into a status, a WWW-Authenticate header and a JSON body. */
export class TokenError extends Error {
  readonly code: TokenErrorCode;
  readonly status: number;
  /** Scopes that would have been enough (insufficient_scope only). */
  readonly scope: string | undefined;
  /** True when no credentials were sent at all: RFC 6750 §3.1 says the challenge then carries no error. */
  readonly missing: boolean;

  constructor(code: TokenErrorCode, description: string, opts: { scope?: string; missing?: boolean; cause?: unknown } = {}) {
    super(description, { cause: opts.cause });
    this.name = 'TokenError';
    this.code = code;
    this.status = STATUS[code];
    this.scope = opts.scope;
    this.missing = opts.missing ?? false;
  }
}

/** RFC 6750 §3: auth-param values are quoted strings of %x20-21 / %x23-5B / %x5D-7E only. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')}"`;
}

/** The WWW-Authenticate header for a refusal (RFC 6750 §3). */
export function challenge(err: TokenError, realm: string): string {
  const params = [`realm=${quoted(realm)}`];
  if (!err.missing && err.code !== 'temporarily_unavailable') {
    params.push(`error=${quoted(err.code)}`, `error_description=${quoted(err.message)}`);
    if (err.scope) params.push(`scope=${quoted(err.scope)}`);
  }
  return `Bearer ${params.join(', ')}`;
}

/** The JSON body sent with a refusal. */
export function errorBody(err: TokenError): { error: string; error_description: string } {
  return { error: err.missing ? 'invalid_request' : err.code, error_description: err.message };
}
