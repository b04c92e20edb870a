import { bearerToken } from './bearer.ts';
import { TokenError } from './errors.ts';
import type { Requirement } from './requirements.ts';
import { createStatusCheck, type StrictOptions } from './strict.ts';
import { createTokenVerifier, type AccessToken, type VerifierOptions } from './verify.ts';

export interface ResourceServerOptions extends VerifierOptions {
  /** Names this server in WWW-Authenticate challenges (default: the first audience). */
  realm?: string;
  /** Also ask the card manager for each payment token's approval status (see strict.ts). */
  strict?: StrictOptions;
}

export interface ResourceServer {
  /** The realm of this server's challenges. */
  readonly realm: string;
  /** Verifies a token (signature, typ, iss, aud, exp/nbf) and, in strict mode, its approval's status. */
  verify(token: string): Promise<AccessToken>;
  /**
   * The whole check of one request: the Bearer token from `authorization`, verified, every
   * requirement met, and (strict mode) the approval still deliverable. Throws TokenError to refuse.
   */
  authenticate<R>(authorization: string | string[] | undefined, request: R, requirements?: ReadonlyArray<Requirement<R>>): Promise<AccessToken>;
}

/** A card-manager resource server: one per API, created once and shared by every request. */
export function createResourceServer(opts: ResourceServerOptions): ResourceServer {
  const verifyJwt = createTokenVerifier(opts);
  const checkStatus = opts.strict ? createStatusCheck(opts.issuer, opts.strict) : undefined;
  const realm = opts.realm ?? (Array.isArray(opts.audience) ? opts.audience[0]! : (opts.audience as string));

  async function verify(token: string): Promise<AccessToken> {
    const claims = await verifyJwt(token);
    if (checkStatus) await checkStatus(claims);
    return claims;
  }

  return {
    realm,
    verify,
    async authenticate(authorization, request, requirements = []) {
      const claims = await verifyJwt(bearerToken(authorization));
      // Requirements first: a token that can never pass costs the card manager no status request.
      for (const requirement of requirements) await requirement(claims, request);
      if (checkStatus) await checkStatus(claims);
      return claims;
    },
  };
}

export { TokenError };
