import type { Client } from 'oidc-provider';
import { requiredAge } from '../approvals/age-gate.ts';
import { requestedAges } from './age-claims-request.ts';
import { refreshRefusal, siteRatingOf, type PolicyDeps } from './interaction-policy.ts';

/**
 * Why the interaction policy would keep the holder `accountId` of a token out of its site now (refreshRefusal): asked where a
 * token outlives the rules it was issued under, at a refresh (audited) and at introspection and userinfo (not).
 * Judged by the site's own rating and the ages the token's authorization request was gated for (its claims request,
 * `claims`, kept on the token): a refresh carries no payment (none gets a refresh token, and details sent with one are not put
 * in its token), and judged by a rating in the refresh's own authorization_details the answer would tell an unrated
 * site, with no one asked, whether its holder is under that age or turned adult content off.
 */
export function refusalNow(policy: PolicyDeps, client: Client, accountId: string, claims: unknown, opts: { audit: boolean }) {
  const siteRating = siteRatingOf(client);
  const entry = { accountId, clientId: client.clientId, siteRating, requiredAge: requiredAge(siteRating, requestedAges(claims)) };
  return refreshRefusal(policy, entry, opts);
}
