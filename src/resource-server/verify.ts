import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** Asymmetric algorithms only: never `none`, never HS* (a public key must not double as an HMAC secret). */
export const ALLOWED_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'];

export interface VerifierOptions {
  /** The card manager's issuer URL, exactly as in its discovery document. */
  issuer: string;
  /** This resource server's identifier (the token's `aud`). */
  audience: string;
  /** Defaults to the jwks_uri from the issuer's discovery document. */
  jwksUri?: string;
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockTolerance?: number;
  /** Override for tests and benchmarks: a key resolver instead of the remote JWKS. */
  keys?: JWTVerifyGetKey;
}

export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope?: string;
}

export class TokenError extends Error {
  readonly code: 'invalid_token' | 'insufficient_scope';
  constructor(code: 'invalid_token' | 'insufficient_scope', message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Verifies RFC 9068 JWT access tokens from the card manager. The remote JWKS is fetched once,
 * cached, and fetched again only when a token names a key id it has not seen (key rotation).
 */
export function createTokenVerifier(opts: VerifierOptions) {
  let keys: JWTVerifyGetKey | undefined = opts.keys;
  let loading: Promise<JWTVerifyGetKey> | undefined;

  async function resolveKeys(): Promise<JWTVerifyGetKey> {
    if (keys) return keys;
    loading ??= (async () => {
      let uri = opts.jwksUri;
      if (!uri) {
        const res = await fetch(`${opts.issuer}/.well-known/openid-configuration`);
        if (!res.ok) throw new Error(`discovery failed: ${res.status}`);
        uri = ((await res.json()) as { jwks_uri: string }).jwks_uri;
      }
      keys = createRemoteJWKSet(new URL(uri), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
      return keys;
    })();
    try {
      return await loading;
    } catch (err) {
      loading = undefined;
      throw err;
    }
  }

  return async function verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    const getKey = keys ?? (await resolveKeys());
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: opts.issuer,
        audience: opts.audience,
        typ: 'at+jwt',
        algorithms: ALLOWED_ALGS,
        clockTolerance: opts.clockTolerance ?? 5,
        requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
      });
      return payload as AccessTokenClaims;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new TokenError('invalid_token', err.code);
      throw err;
    }
  };
}

/** The bearer token from an Authorization header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? '');
  return m?.[1];
}
