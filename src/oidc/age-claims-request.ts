import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';
import { allowedClaimsOf, claimAllowed } from './allowed-claims.ts';
import { claimsWithinScopes } from './scope-claims.ts';

/** Our age claims' names: age_over_NN, NN a configured rating age (ISO 18013-5 style minimal disclosure). */
const AGE_CLAIM = /^age_over_(\d{1,3})$/;
const PREFIX = 'age_over_';
const CONTAINERS = ['id_token', 'userinfo'] as const;

/** The configured rating ages a request may name in a claims request: every rating above 0, ascending. */
export function ratingAges(ratings: Readonly<Record<string, number>>): number[] {
  return [...new Set(Object.values(ratings).filter((age) => age > 0))].sort((a, b) => a - b);
}

/** The age_over_NN claim names the provider supports (its `claims` configuration, as standalone claims). */
export function ageClaimNames(ratings: Readonly<Record<string, number>>): string[] {
  return ratingAges(ratings).map((age) => `${PREFIX}${age}`);
}

/** The age an age_over_NN claim name states, or undefined for any other claim. */
export function ageOfClaim(name: string): number | undefined {
  const nn = AGE_CLAIM.exec(name)?.[1];
  return nn === undefined ? undefined : Number(nn);
}

/** The ages one container of a claims request (`id_token` or `userinfo`: claim → request) names. */
function agesIn(container: unknown): number[] {
  if (!container || typeof container !== 'object') return [];
  return Object.keys(container)
    .map(ageOfClaim)
    .filter((age): age is number => age !== undefined);
}

/**
 * The ages a claims request (OIDC Core §5.5) asks for, in the ID token or at userinfo alike: as the request's
 * `claims` parameter (a JSON string, already checked by the provider) or as a token's stored `claims` object.
 */
export function requestedAges(claims: unknown): number[] {
  let parsed = claims;
  if (typeof claims === 'string') {
    try {
      parsed = JSON.parse(claims) as unknown;
    } catch {
      return [];
    }
  }
  if (!parsed || typeof parsed !== 'object') return [];
  const c = parsed as Record<string, unknown>;
  return [...new Set(CONTAINERS.flatMap((k) => agesIn(c[k])))];
}

/**
 * features.claimsParameter.assertClaimsParameter: oidc-provider's own check (each member null or an object), then
 * ours. An age_over_NN whose NN is not a rating age here is refused invalid_request, not ignored as OIDC Core §5.5
 * lets a provider ignore a claim it does not know: the site asked for an age gate, and ignoring it would let the
 * holder in ungated, the site finding out only when its API refuses a token without the claim.
 */
export function createAssertClaimsParameter(ratings: Readonly<Record<string, number>>) {
  const known = new Set(ageClaimNames(ratings));
  return async function assertClaimsParameter(ctx: KoaContextWithOIDC, claims: Record<string, unknown>, client: Client): Promise<void> {
    const allowed = allowedClaimsOf(client);
    const scopes = new Set(String(ctx.oidc.params?.scope ?? '').split(' '));
    for (const container of CONTAINERS) {
      const members = claims[container];
      if (members === undefined) continue;
      for (const [name, value] of Object.entries(members as Record<string, unknown>)) {
        if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
          throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
        }
        if (name.startsWith(PREFIX) && !known.has(name)) {
          throw new errors.InvalidRequest(
            `claims.${container}.${name.slice(0, 40)} is not an age this card manager rates; ask for one of ${[...known].join(', ')}`,
          );
        }
        // A claim the operator's list for this site leaves out (allowed-claims.ts): refused for the same reason, an age
        // gate the site thinks it set must not be skipped in silence; a name or birthdate likewise, rather than ignored,
        // when the request has its scope. Without it the claim is ignored, list or none (scope-claims.ts).
        const asked = claimsWithinScopes([name], scopes).length > 0;
        if (asked && (name.startsWith(PREFIX) || name === 'name' || name === 'birthdate') && !claimAllowed(allowed, name)) {
          throw new errors.InvalidRequest(
            `claims.${container}.${name} is not among the claims this member site may ask for (${[...allowed!].join(', ') || 'none'}); ask the operator`,
          );
        }
      }
    }
  };
}
