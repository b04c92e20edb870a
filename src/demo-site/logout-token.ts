import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/** The event a Logout Token carries (OpenID Connect Back-Channel Logout 1.0 §2.4). */
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Whose sessions a Logout Token ends: the holder's (sub), one session (sid), or that session of that holder. */
export interface LogoutOf {
  sub?: string;
  sid?: string;
}

export interface LogoutTokenVerifier {
  /** The holder and session a valid token names; throws (with a message for the 400 answer) for any other. */
  verify(token: string): Promise<LogoutOf>;
}

/**
 * Checks Logout Tokens as §2.6 asks, with jose against the card manager's published keys (its jwks_uri, from
 * discovery): signed (never alg none), typ logout+jwt, iss the card manager, aud this site, iat and exp (a token lives
 * minutes), the back-channel logout event, sub or sid, no nonce (which would make it an ID token), and a jti not seen
 * before while it lives (a replayed token ends nothing twice, and is refused).
 */
export function createLogoutTokenVerifier(opts: { issuer: string; clientId: string; jwksUri: () => Promise<URL> }): LogoutTokenVerifier {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const seen = new Map<string, number>();

  function notSeenBefore(jti: string, exp: number): void {
    const now = Date.now() / 1000;
    for (const [id, until] of seen) if (until < now) seen.delete(id);
    if (seen.has(jti)) throw new Error('this logout token was used already');
    seen.set(jti, exp);
  }

  return {
    async verify(token) {
      keys ??= createRemoteJWKSet(await opts.jwksUri());
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: opts.issuer,
          audience: opts.clientId,
          typ: 'logout+jwt',
          requiredClaims: ['iat', 'exp', 'jti', 'events'],
          maxTokenAge: '10 minutes',
          clockTolerance: 5,
        }));
      } catch (err) {
        throw new Error(`the logout token is not valid: ${(err as Error).message}`, { cause: err });
      }
      const events = payload.events as Record<string, unknown> | undefined;
      if (!events || typeof events !== 'object' || typeof events[EVENT] !== 'object' || events[EVENT] === null) throw new Error('not a back-channel logout event');
      if ('nonce' in payload) throw new Error('a logout token carries no nonce');
      const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
      const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
      if (!sub && !sid) throw new Error('the logout token names neither sub nor sid');
      notSeenBefore(String(payload.jti), payload.exp!);
      return { ...(sub ? { sub } : {}), ...(sid ? { sid } : {}) };
    },
  };
}
