import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { accountFacts } from './account-facts.ts';
import { requiredAge } from '../approvals/age-gate.ts';
import { holderMayEnter } from '../approvals/check-age.ts';
import { holderRefusesEntry } from '../approvals/holder-refuses-entry.ts';
import type { Db } from '../db/knex.ts';
import { overdueRefusesEntry } from '../ledger/delinquency.ts';
import type { DelinquencyPolicy } from '../ledger/deps.ts';
import { paymentDetailsOf } from './payment-details.ts';

const { Check, Prompt, base } = interactionPolicy;

export interface PolicyDeps {
  db: Db;
  ratings: Readonly<Record<string, number>>;
  requirePasswordEachTime: boolean;
  /** Age from which content counts as adult (config cards.adultAge), for "adult content off". */
  adultAge: number;
  /** With delinquency.blockLogins: an overdue account is kept out of member sites, not only refused new charges. */
  blockOverdueLogins?: DelinquencyPolicy | null;
}

/** The age a request needs: the site's registered rating raised by any rating in its payment details. */
export function requestRequiredAge(ctx: KoaContextWithOIDC, ratings: Readonly<Record<string, number>>): number {
  const siteRating = Number((ctx.oidc.client as unknown as Record<string, unknown>)['urn:cybercard:content_rating'] ?? 0);
  const details = paymentDetailsOf(ctx.oidc.params as Record<string, unknown>, ratings);
  return requiredAge(siteRating, details.map((d) => d.rating ?? 0));
}

/**
 * oidc-provider's interaction policy with our own rules:
 * - login: a payment needs the card password in this very interaction, even inside an SSO session;
 * - age_gate (between login and consent): a holder under the required age is stopped;
 * - holder_controls (after the age gate): a site the holder blocked, or adult content they turned off,
 *   or (with delinquency.blockLogins) an overdue statement.
 * No route can finish these prompts (they are checked again on every resume), so no path around them
 * exists, and with prompt=none the site receives access_denied directly.
 */
export function createInteractionPolicy(deps: PolicyDeps) {
  const policy = base();
  // The holder_controls check hands its (audited) finding to the prompt details without asking twice.
  const refusals = new WeakMap<object, string>();

  policy.get('login')!.checks.add(
    new Check('payment_requires_password', 'a payment needs the card password', 'login_required', (ctx) => {
      if (!deps.requirePasswordEachTime || ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      const hasPayment = paymentDetailsOf(ctx.oidc.params as Record<string, unknown>, deps.ratings).length > 0;
      return hasPayment ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );

  policy.add(
    new Prompt(
      { name: 'age_gate', requestable: false },
      new Check(
        'under_age',
        'the card holder is under the age this content requires',
        'access_denied',
        async (ctx) => {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId) return Check.NO_NEED_TO_PROMPT;
          const age = requestRequiredAge(ctx, deps.ratings);
          const birthdate = age > 0 ? (await accountFacts(deps.db, accountId))?.account.birthdate : undefined;
          const ok = await holderMayEnter(deps.db, { accountId, clientId: ctx.oidc.client!.clientId, requiredAge: age, birthdate });
          return ok ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
        },
        (ctx) => ({ requiredAge: requestRequiredAge(ctx, deps.ratings) }),
      ),
    ),
    1,
  );

  // After the age gate: the holder's own controls (a blocked site, adult content turned off).
  policy.add(
    new Prompt(
      { name: 'holder_controls', requestable: false },
      new Check(
        'holder_controls',
        "the card holder's own controls refuse this member site",
        'access_denied',
        async (ctx) => {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId) return Check.NO_NEED_TO_PROMPT;
          const clientId = ctx.oidc.client!.clientId;
          const refusal =
            (await holderRefusesEntry(deps.db, {
              accountId,
              clientId,
              requiredAge: requestRequiredAge(ctx, deps.ratings),
              adultAge: deps.adultAge,
              controls: (await accountFacts(deps.db, accountId))?.controls,
            })) ??
            (deps.blockOverdueLogins && (await overdueRefusesEntry(deps.db, { accountId, clientId }, deps.blockOverdueLogins)) ? 'delinquent' : null);
          if (!refusal) return Check.NO_NEED_TO_PROMPT;
          refusals.set(ctx, refusal);
          return Check.REQUEST_PROMPT;
        },
        (ctx) => ({ refusal: refusals.get(ctx) ?? null }),
      ),
    ),
    2,
  );
  return policy;
}
