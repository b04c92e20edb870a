/**
 * The OIDC scopes and the claims each gives (OIDC Core §5.4), as the provider's `claims` configuration maps them.
 * `birthdate` is OIDC Core §5.1's claim (YYYY-MM-DD): a scope the operator grants a site on its own
 * (member-sites/site-metadata.ts), never by default; everything else learns an age only as age_over_NN.
 */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub'],
  profile: ['name'],
  birthdate: ['birthdate'],
};

/** The scope each scope-bound claim comes with; a claim in none (age_over_NN) stands alone. */
const SCOPE_OF_CLAIM: ReadonlyMap<string, string> = new Map(Object.entries(SCOPE_CLAIMS).flatMap(([scope, claims]) => claims.map((c) => [c, scope])));

/**
 * The claims of a claims request (OIDC Core §5.5) the request's OIDC scopes can give: a scope-bound claim only with
 * its scope (find-account.ts gives `name` and `birthdate` with their scopes alone), a standalone one always. The
 * rest is ignored as §5.5 lets a provider ignore a claim it will not return ("MUST NOT generate an error when Claims
 * are not returned"), the way a site's scope cuts a grant (withdrawn-scopes.ts): the holder is not asked to consent
 * to what the site cannot be given, and the site, which never had the scope, learns nothing it could not before.
 */
export function claimsWithinScopes(claims: Iterable<string>, scopes: ReadonlySet<string>): string[] {
  return [...claims].filter((claim) => {
    const scope = SCOPE_OF_CLAIM.get(claim);
    return scope === undefined || scopes.has(scope);
  });
}
