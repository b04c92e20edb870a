import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

/** The namespace of the card manager's approval events (its README, "Approval events"). */
const APPROVAL_EVENTS = 'https://cybercard.dev/events/';

/** One approval event as the demo takes it: its kind (approval-revoked …) and the approval as the card manager shows it. */
export interface ApprovalEvent {
  jti: string;
  kind: string;
  approvalNo: string;
  status: string;
}

/** A refused token, with the RFC 8935 §2.3 error code the 400 answer carries. */
export class SetRefused extends Error {
  constructor(
    readonly err: 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience',
    description: string,
  ) {
    super(description);
  }
}

export interface SecurityEventVerifier {
  /** The event a valid token carries; throws SetRefused for any other. */
  verify(token: string): Promise<ApprovalEvent>;
}

/**
 * Which RFC 8935 error a failed check is: a wrong issuer or audience named as such, a bad signature as invalid_key. The
 * card manager's keys not fetched (no answer, not 200, too slow) is no refusal: the token may be good, and a 400 would
 * make the card manager give the event up, so that error is passed on (a 5xx answer: the event is tried again).
 */
function refusal(err: unknown): Error {
  if (err instanceof errors.JWKSTimeout || (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC') || !(err instanceof errors.JOSEError)) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const message = err.message;
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'iss') return new SetRefused('invalid_issuer', message);
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') return new SetRefused('invalid_audience', message);
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) return new SetRefused('invalid_key', message);
  return new SetRefused('invalid_request', `the security event token is not valid: ${message}`);
}

/**
 * Checks Security Event Tokens (RFC 8417 §2.3, RFC 8935 §2.1) with jose against the card manager's published keys (its
 * jwks_uri, from discovery): signed (never alg none), typ secevent+jwt, iss the card manager, aud this site, iat and
 * jti, one event of the card manager's approval namespace naming an approval. A jti seen before is still a valid
 * token: the card manager sends an event again when it did not hear the first answer; `fresh` tells the caller.
 */
export function createSecurityEventVerifier(opts: { issuer: string; clientId: string; jwksUri: () => Promise<URL> }): SecurityEventVerifier {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  return {
    async verify(token) {
      keys ??= createRemoteJWKSet(await opts.jwksUri());
      const { payload } = await jwtVerify(token, keys, {
        issuer: opts.issuer,
        audience: opts.clientId,
        typ: 'secevent+jwt',
        requiredClaims: ['iat', 'jti', 'events'],
        clockTolerance: 5,
      }).catch((err: unknown) => {
        throw refusal(err);
      });
      const events = payload.events as Record<string, Record<string, unknown> | null> | undefined;
      const uris = events && typeof events === 'object' ? Object.keys(events) : [];
      const uri = uris[0];
      const event = uri ? events![uri] : undefined;
      if (uris.length !== 1 || !uri!.startsWith(APPROVAL_EVENTS) || !event || typeof event !== 'object') {
        throw new SetRefused('invalid_request', 'not one approval event');
      }
      if (typeof event.approval_no !== 'string' || typeof event.status !== 'string') throw new SetRefused('invalid_request', 'the event names no approval');
      return { jti: String(payload.jti), kind: uri!.slice(APPROVAL_EVENTS.length), approvalNo: event.approval_no, status: event.status };
    },
  };
}
