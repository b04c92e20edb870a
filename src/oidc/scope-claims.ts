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
