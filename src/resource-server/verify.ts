import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { TokenError } from './errors.ts';

/**
 * Asymmetric algorithms only. Never `none`; never HS*: with HS256 a verifier that accepts any
 * algorithm can be fooled by a token "signed" with the issuer's public key as the HMAC secret.
 */
export const ASYMMETRIC_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA'] as const;
export type AsymmetricAlg = (typeof ASYMMETRIC_ALGS)[number];

/** A payment the holder approved, as the card manager puts it in `authorization_details` (RFC 9396). */
export interface PaymentDetail {
  type: 'payment';
  /** Integer minor units of `currency`. */
  amount: number;
  currency: string;
  description: string;
  content_ref?: string;
  rating?: number;
  approval_no?: string;
}

/** The claims of a card-manager access token (RFC 9068 plus the card manager's own). */
export interface AccessToken extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope?: string;
  /** The approved payment(s); present on payment tokens only. */
  authorization_details?: Array<PaymentDetail | ({ type: string } & Record<string, unknown>)>;
  /** The approval number of the payment this token carries. */
  approval_no?: string;
  credit?: { currency: string; standing: string; approved_amount?: number };
  /** Minimal-disclosure age claims: `age_over_19: true` and so on, for the ages this site needs. */
  [ageOver: `age_over_${number}`]: boolean | undefined;
}

export interface VerifierOptions {
  /** The card manager's issuer URL, exactly as in its discovery document. */
  issuer: string;
  /** This resource server's identifier(s): the token's `aud` must name one. */
  audience: string | string[];
  /** Defaults to the jwks_uri of the issuer's discovery document. */
  jwksUri?: string;
  /** Seconds of clock skew tolerated on exp, nbf and iat (default 5, at most 300). */
  clockTolerance?: number;
  /** Accepted signing algorithms, from ASYMMETRIC_ALGS only (default ES256, what the card manager signs with). */
  algorithms?: readonly string[];
  /** After fetching the JWKS, an unknown `kid` does not trigger another fetch for this long (default 30 s). */
  jwksCooldownSeconds?: number;
  /** The JWKS is fetched again after this long even if every kid is known (default 600 s). */
  jwksMaxAgeSeconds?: number;
  /** A key resolver instead of the remote JWKS (tests, benchmarks, air-gapped setups). */
  keys?: JWTVerifyGetKey;
  /** The current time (tests). */
  now?: () => Date;
}

/** Largest token accepted: card-manager tokens are about 1 KiB; this keeps parsing cheap for garbage. */
const MAX_TOKEN_LENGTH = 16_384;

/** Checks the options once, at construction: a misconfigured verifier must not start. */
function allowedAlgorithms(requested: readonly string[] | undefined): string[] {
  const algs = [...(requested ?? ['ES256'])];
  if (!algs.length) throw new TypeError('algorithms must name at least one algorithm');
  for (const alg of algs) {
    if (!(ASYMMETRIC_ALGS as readonly string[]).includes(alg)) {
      throw new TypeError(`algorithm ${alg} is not allowed: use one of ${ASYMMETRIC_ALGS.join(', ')}`);
    }
  }
  return algs;
}

/**
 * The card manager's key set: discovery once (its issuer must match), then jose's remote JWKS,
 * cached and fetched again only for an unknown `kid` (key rotation), at most once per cooldown.
 * Concurrent first requests share one discovery fetch; a failed one is retried on the next request.
 */
function remoteKeys(opts: VerifierOptions): JWTVerifyGetKey {
  let keys: JWTVerifyGetKey | undefined;
  let loading: Promise<JWTVerifyGetKey> | undefined;
  const cooldownDuration = (opts.jwksCooldownSeconds ?? 30) * 1000;
  const cacheMaxAge = (opts.jwksMaxAgeSeconds ?? 600) * 1000;

  async function load(): Promise<JWTVerifyGetKey> {
    let uri = opts.jwksUri;
    if (!uri) {
      const res = await fetch(new URL('.well-known/openid-configuration', opts.issuer.endsWith('/') ? opts.issuer : `${opts.issuer}/`), {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (doc.issuer !== opts.issuer) throw new Error(`discovery names issuer ${String(doc.issuer)}, expected ${opts.issuer}`);
      if (typeof doc.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
      uri = doc.jwks_uri;
    }
    return createRemoteJWKSet(new URL(uri), { cooldownDuration, cacheMaxAge, timeoutDuration: 5000 });
  }

  // Once loaded, straight to jose's cached key set: no extra promise on the hot path.
  return function getKey(header, token) {
    if (keys) return keys(header, token);
    loading ??= load().then(
      (k) => (keys = k),
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading.then((k) => k(header, token));
  };
}

/** Turns jose's refusals into invalid_token with a reason a developer can act on. */
function refusal(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenError('invalid_token', 'The access token has expired.', { cause: err });
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const what = err.claim === 'nbf' ? 'is not valid yet' : `has the wrong or no "${err.claim}" claim`;
    return new TokenError('invalid_token', `The access token ${what}.`, { cause: err });
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new TokenError('invalid_token', 'The access token is signed with an algorithm this server does not accept.', { cause: err });
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('invalid_token', 'The access token signature is not valid.', { cause: err });
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new TokenError('invalid_token', 'The access token is signed with a key the issuer does not publish.', { cause: err });
  // A JWKS that cannot be fetched (timeout, non-200: jose's generic error) is our side's trouble, not the token's.
  if (err instanceof joseErrors.JWKSTimeout || (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC')) {
    return new TokenError('temporarily_unavailable', 'The issuer’s keys cannot be fetched right now.', { cause: err });
  }
  if (err instanceof joseErrors.JOSEError) return new TokenError('invalid_token', 'The access token is not valid.', { cause: err });
  // Anything else is discovery or the network failing.
  return new TokenError('temporarily_unavailable', 'The issuer’s keys cannot be fetched right now.', { cause: err });
}

/**
 * Verifies RFC 9068 JWT access tokens from the card manager: signature against the issuer's JWKS
 * with an algorithm from the allowlist, `typ: at+jwt`, iss, aud, exp/nbf/iat within the clock
 * tolerance, the RFC 9068 §2.2 claims present, and no `cnf` (no key binding the kit could not check).
 */
export function createTokenVerifier(opts: VerifierOptions): (token: string) => Promise<AccessToken> {
  if (!opts.issuer || !URL.canParse(opts.issuer)) throw new TypeError('issuer must be the card manager’s issuer URL');
  const audience = Array.isArray(opts.audience) ? [...opts.audience] : [opts.audience];
  if (!audience.length || audience.some((a) => typeof a !== 'string' || !a)) throw new TypeError('audience must name this resource server');
  const clockTolerance = opts.clockTolerance ?? 5;
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) throw new TypeError('clockTolerance must be 0–300 seconds');
  const verifyOptions = {
    issuer: opts.issuer,
    audience,
    typ: 'at+jwt',
    algorithms: allowedAlgorithms(opts.algorithms),
    clockTolerance,
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
  };
  const getKey = opts.keys ?? remoteKeys(opts);
  const now = opts.now;

  return async function verifyAccessToken(token: string): Promise<AccessToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid_token', 'The access token is not valid.');
    try {
      const { payload } = await jwtVerify(token, getKey, now ? { ...verifyOptions, currentDate: now() } : verifyOptions);
      // A sender-constrained token (RFC 9449 DPoP, RFC 8705 mTLS) is good only with proof of its key, which a
      // Bearer check cannot see: accepting it would drop the binding for whoever holds a copy of the token.
      if (payload.cnf !== undefined) throw new TokenError('invalid_token', 'The access token is bound to a key (cnf): this server takes Bearer tokens only.');
      return payload as AccessToken;
    } catch (err) {
      throw refusal(err);
    }
  };
}
