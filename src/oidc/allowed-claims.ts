import type { Client } from 'oidc-provider';

/**
 * The claims the operator allows a member site (the registry's allowed claims, client-metadata.ts), or undefined
 * when the site has no list: then its scopes alone decide what it is given, and it may ask for any age_over_NN.
 */
export function allowedClaimsOf(client: Client | undefined): ReadonlySet<string> | undefined {
  const list = (client as unknown as Record<string, unknown> | undefined)?.['urn:cybercard:allowed_claims'];
  return Array.isArray(list) ? new Set(list as string[]) : undefined;
}

/** Whether the site may be given `claim`: always with no list; otherwise only a listed claim (sub is always given). */
export function claimAllowed(allowed: ReadonlySet<string> | undefined, claim: string): boolean {
  return !allowed || claim === 'sub' || allowed.has(claim);
}

/**
 * The ages of a claims request's age_over_NN that the site may still be given: a grant made before the operator's list
 * left one out carries its claims request on (a refresh, a userinfo access token), and the list decides at every
 * answer, not only at the request (age-claims-request.ts refuses a new request for it).
 */
export function allowedAges(allowed: ReadonlySet<string> | undefined, ages: readonly number[]): number[] {
  return ages.filter((age) => claimAllowed(allowed, `age_over_${age}`));
}
