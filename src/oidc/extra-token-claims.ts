import type { KoaContextWithOIDC } from 'oidc-provider';
import { ageClaims, type AgeCalendar } from '../approvals/age-gate.ts';
import { accountFacts } from './account-facts.ts';
import { requestedAges } from './age-claims-request.ts';
import { allowedAges, allowedClaimsOf } from './allowed-claims.ts';
import { siteRatingOf } from './interaction-policy.ts';
import type { Db } from '../db/knex.ts';
import { overdueFor } from '../ledger/delinquency.ts';
import type { DelinquencyPolicy } from '../ledger/deps.ts';
import type { PaymentDetail } from './payment-details.ts';
import { refuseHolderScopes } from './refuse-holder-scopes.ts';

interface TokenLike {
  kind?: string;
  accountId?: string;
  clientId?: string;
  rar?: Array<Record<string, unknown>>;
  grantId?: string;
  /** The claims request (OIDC Core §5.5) of the authorization request: kept by the provider on tokens for userinfo only. */
  claims?: unknown;
}

/**
 * The claims request (OIDC Core §5.5) of the authorization request this token comes from, through the code or the
 * refresh token it is issued for (both keep it; the provider puts it on an access token only when it is for userinfo).
 */
function claimsRequestOf(ctx: KoaContextWithOIDC, token: TokenLike): unknown {
  if (token.claims !== undefined) return token.claims;
  const { AuthorizationCode, RefreshToken } = ctx.oidc.entities as { AuthorizationCode?: TokenLike; RefreshToken?: TokenLike };
  return [AuthorizationCode, RefreshToken].find((source) => source?.grantId !== undefined && source.grantId === token.grantId)?.claims;
}

/**
 * Claims added to access tokens (RFC 9068 JWTs carry them; opaque ones expose them at introspection):
 * minimal-disclosure age_over_NN for the thresholds this site and the request needs (its payment's `rating`, its
 * claims request's age_over_NN), the credit standing and, for a
 * payment, the approval number with the approved amount. `standing` is `overdue` while a statement is unpaid past
 * its due date plus grace (new charges are refused then; free content stays open), `good` otherwise.
 *
 * Never the available credit: an exact figure such as 496,500 is the same at every site the holder visits that
 * minute, so two sites comparing tokens could link one holder across the pairwise subjects, and a site needs it for
 * nothing (a payment request is approved or refused `over_limit`). Minimal disclosure, as for the age. Ages are
 * counted on `ages`' calendar (billing.timeZone), as the age gate counts them.
 */
export function createExtraTokenClaims(db: Db, delinquency: DelinquencyPolicy, ages: AgeCalendar) {
  return async function extraTokenClaims(ctx: KoaContextWithOIDC, token: TokenLike): Promise<Record<string, unknown> | undefined> {
    refuseHolderScopes(ctx, token);
    if (!token.accountId) return undefined;
    // The same read findAccount made for this request (the account, its credit line): one round trip.
    const facts = await accountFacts(db, token.accountId);
    if (!facts) return undefined;
    const { account, line } = facts;
    const siteRating = siteRatingOf(ctx.oidc.client);
    const payments = (token.rar ?? []).filter((d) => d.type === 'payment') as unknown as PaymentDetail[];
    // The ages the authorization request was gated for, and no others: a refresh carries the original request's claims,
    // whose age_over_NN the site's allowed claims of today may have left out since (the gate's own answers stay).
    const asked = allowedAges(allowedClaimsOf(ctx.oidc.client), requestedAges(claimsRequestOf(ctx, token)));
    const thresholds = [siteRating, ...payments.map((p) => p.rating ?? 0), ...asked];
    const claims: Record<string, unknown> = {
      ...ageClaims(account.birthdate, thresholds, ages),
      credit: {
        currency: line.currency,
        standing: (await overdueFor(db, token.accountId, delinquency)) ? 'overdue' : 'good',
      },
    };
    const approved = payments.find((p) => p.approval_no);
    if (approved) {
      claims.approval_no = approved.approval_no;
      (claims.credit as Record<string, unknown>).approved_amount = approved.amount;
    }
    return claims;
  };
}
