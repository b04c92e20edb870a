import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { accountFacts } from './account-facts.ts';
import { ratedBy, requiredAge, type AgeRule, type RatedBy } from '../approvals/age-gate.ts';
import { checkAge } from '../approvals/check-age.ts';
import { holderRefusesEntry, type EntryRefusal } from '../approvals/holder-refuses-entry.ts';
import { SITE_DESCRIPTIONS, UNDER_AGE_DESCRIPTIONS } from '../approvals/site-descriptions.ts';
import type { Config } from '../config/schema.ts';
import type { Db } from '../db/knex.ts';
import type { SpendingControls } from '../db/spending-controls.ts';
import { overdueRefusesEntry } from '../ledger/delinquency.ts';
import type { DelinquencyPolicy } from '../ledger/deps.ts';
import { afterRequestCommit } from '../db/request-scope.ts';
import type { EventCounts } from '../lib/event-counts.ts';
import { requestedAges } from './age-claims-request.ts';
import { paymentDetailsOf } from './payment-details.ts';
import { claimsWithinScopes } from './scope-claims.ts';

const { Check, Prompt, base } = interactionPolicy;

export interface PolicyDeps {
  db: Db;
  ratings: Readonly<Record<string, number>>;
  requirePasswordEachTime: boolean;
  /** Age from which content counts as adult (config cards.adultAge), for "adult content off". */
  adultAge: number;
  /** With delinquency.blockLogins: an overdue account is kept out of member sites, not only refused new charges. */
  blockOverdueLogins?: DelinquencyPolicy | null;
  /** Where a payment the policy refuses is counted (metrics), as the pages count theirs. */
  counts?: EventCounts;
  /** The zone whose calendar the age gate counts ages in (billing.timeZone), as applications do. */
  timeZone: string;
  /** The time ages are counted at (the app's clock); tests may fix it. */
  now?: (() => Date) | undefined;
}

/** A payment request this policy refuses counts as a refused approval, under its code, once the request commits. */
function countRefusedPayment(deps: PolicyDeps, ctx: KoaContextWithOIDC, outcome: string): void {
  const counts = deps.counts;
  if (!counts || paymentDetailsOf(ctx.oidc.params as Record<string, unknown>, deps.ratings).length === 0) return;
  if (!afterRequestCommit(() => counts.approval(outcome))) counts.approval(outcome);
}

/**
 * The ratings a request raises its site's to: any payment detail's `rating`, and any age_over_NN its claims
 * parameter asks for (OIDC Core §5.5, essential or not: the claim is only ever issued to a holder the gate let in).
 */
export function requestRatings(params: Record<string, unknown>, ratings: Readonly<Record<string, number>>): number[] {
  return [...paymentDetailsOf(params, ratings).map((d) => d.rating ?? 0), ...requestedAges(params.claims)];
}

/** The member site's registered rating (its client metadata), 0 for none. */
export function siteRatingOf(client: KoaContextWithOIDC['oidc']['client']): number {
  return Number((client as unknown as Record<string, unknown> | undefined)?.['urn:cybercard:content_rating'] ?? 0);
}

/** The ages a request needs: the site's registered rating, and that raised by the request (requestRatings). */
export function requestAgeRule(ctx: KoaContextWithOIDC, ratings: Readonly<Record<string, number>>): AgeRule {
  const siteRating = siteRatingOf(ctx.oidc.client);
  return { siteRating, requiredAge: requiredAge(siteRating, requestRatings(ctx.oidc.params as Record<string, unknown>, ratings)) };
}

/**
 * The consent a request will need once its holder has logged in, worked out at the login prompt as the
 * consent prompt's checks work it out (op_scopes_missing, op_claims_missing, rs_scopes_missing,
 * rar_prompt) for a grant that starts empty. Known only when the grant will start empty: a payment always
 * starts its own (load-existing-grant.ts), a plain login does when no one is logged in yet. The login
 * page then shows the consent or approval page in its own answer, and the member site's next request
 * goes straight to the code (two requests fewer); the policy still checks everything on that resume.
 */
export interface ConsentAhead {
  missingOIDCScope: string[];
  missingOIDCClaims: string[];
  missingResourceScopes: Record<string, string[]>;
  /** The request's authorization_details (validated by the provider), when it has any. */
  rar?: unknown[];
  /** The age the request needs (requestAgeRule). */
  requiredAge: number;
  /** The member site's own rating (requestAgeRule). */
  siteRating: number;
}

const SESSION_CLAIMS = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/** The claims the request's claims parameter asks the holder to consent to: those its scopes can give (claimsWithinScopes). */
function consentableClaims(oidc: KoaContextWithOIDC['oidc']): string[] {
  return claimsWithinScopes(oidc.requestParamClaims, oidc.requestParamOIDCScopes).filter((c) => !SESSION_CLAIMS.has(c));
}

/**
 * The consent prompt's op_claims_missing as oidc-provider has it, but for the claims the request's scopes can give
 * only: a claims request naming `birthdate` without the birthdate scope (a site the operator never granted it, or
 * one that left it out) would otherwise show the holder a consent page that grants nothing.
 */
function claimsMissingCheck(): InstanceType<typeof Check> {
  const missing = new WeakMap<object, string[]>();
  return new Check(
    'op_claims_missing',
    'requested claims not granted',
    'consent_required',
    (ctx) => {
      const encountered = new Set(ctx.oidc.grant!.getOIDCClaimsEncountered());
      const claims = consentableClaims(ctx.oidc).filter((c) => !encountered.has(c));
      if (!claims.length) return Check.NO_NEED_TO_PROMPT;
      missing.set(ctx, claims);
      return Check.REQUEST_PROMPT;
    },
    (ctx) => ({ missingOIDCClaims: missing.get(ctx) }),
  );
}

function consentAhead(ctx: KoaContextWithOIDC, ratings: Readonly<Record<string, number>>): ConsentAhead | undefined {
  const { oidc } = ctx;
  const rar = typeof oidc.params?.authorization_details === 'string' ? (JSON.parse(oidc.params.authorization_details) as unknown[]) : undefined;
  if (oidc.session?.accountId && !rar) return undefined;
  const missingResourceScopes: Record<string, string[]> = {};
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const available = (server as unknown as { scopes: Set<string> }).scopes;
    const scopes = [...oidc.requestParamScopes].filter((s) => available.has(s));
    if (scopes.length) missingResourceScopes[indicator] = scopes;
  }
  return {
    missingOIDCScope: [...oidc.requestParamOIDCScopes],
    missingOIDCClaims: consentableClaims(oidc),
    missingResourceScopes,
    ...(rar ? { rar } : {}),
    ...requestAgeRule(ctx, ratings),
  };
}

/** The interaction policy's settings, from the deployment's config; `now` is the app's clock. */
export function policyDeps(
  config: Pick<Config, 'ratings' | 'payments' | 'cards' | 'delinquency' | 'billing'>,
  db: Db,
  { counts, now }: { counts?: EventCounts | undefined; now?: (() => Date) | undefined } = {},
): PolicyDeps {
  return {
    db,
    ...(counts ? { counts } : {}),
    timeZone: config.billing.timeZone,
    now,
    ratings: config.ratings,
    requirePasswordEachTime: config.payments.requirePasswordEachTime,
    adultAge: config.cards.adultAge,
    blockOverdueLogins: config.delinquency.blockLogins ? { ...config.delinquency, timeZone: config.billing.timeZone } : null,
  };
}

type Entry = AgeRule & { accountId: string; clientId: string };

/** Why the policy keeps a holder out; for an age (under_age, adult_content_off), whose rating it was. */
export interface PolicyRefusal {
  code: 'under_age' | EntryRefusal | OverdueCode;
  ratedBy?: RatedBy;
  /** For ward_delinquent: the name of the overdue ward, for the guardian's page. */
  wardName?: string;
  /** For delinquent: it is the guardian's statement that stops this minor's card (delinquency.guardianResponsible). */
  guardian?: boolean;
}

/** An overdue statement's refusal: the card's own (or its guardian's), or a ward's the card answers for. */
type OverdueCode = 'delinquent' | 'ward_delinquent';

/** What the age gate and the holder's controls decide on: the holder's birthdate and spending controls. */
type HolderFacts = { birthdate?: string | null | undefined; controls?: SpendingControls | undefined };

/** The holder's facts as this request reads them (accountFacts: one read, remembered for the request). */
async function factsOf(deps: PolicyDeps, accountId: string): Promise<HolderFacts> {
  const facts = await accountFacts(deps.db, accountId);
  return { birthdate: facts?.account.birthdate, controls: facts?.controls };
}

/** The age_gate prompt's decision: whose rating the holder is under, if any (audited when `audit`). */
function underAge(deps: PolicyDeps, q: Entry, facts: HolderFacts, audit: boolean): Promise<RatedBy | null> {
  return checkAge(deps, { ...q, birthdate: facts.birthdate ?? undefined }, { audit });
}

/**
 * The holder_controls prompt's decision: why the holder's own controls refuse the site, if they do, and
 * (with delinquency.blockLogins, unless `overdue` is false) an overdue statement. Audited when `audit`.
 */
async function controlsRefusal(
  deps: PolicyDeps,
  q: Entry,
  facts: HolderFacts,
  { audit, overdue = true }: { audit: boolean; overdue?: boolean },
): Promise<PolicyRefusal | null> {
  const own = await holderRefusesEntry(deps.db, { ...q, adultAge: deps.adultAge, controls: facts.controls }, { audit });
  // Adult content: the site's own rating is adult, or only this request's.
  if (own) return own === 'adult_content_off' ? { code: own, ratedBy: ratedBy(q, deps.adultAge) } : { code: own };
  if (!overdue || !deps.blockOverdueLogins) return null;
  return overdueRefusesEntry(deps.db, q, deps.blockOverdueLogins, { audit });
}

/** The age gate's, then the holder's controls' (and, with `overdue`, an overdue statement's) refusal, as the policy decides them. */
async function policyRefusal(
  deps: PolicyDeps,
  q: Entry,
  facts: HolderFacts,
  opts: { audit: boolean; overdue: boolean },
): Promise<PolicyRefusal | null> {
  const under = await underAge(deps, q, facts, opts.audit);
  if (under) return { code: 'under_age', ratedBy: under };
  return controlsRefusal(deps, q, facts, opts);
}

/**
 * Why the age gate or the holder's own controls keep this holder out of this site, decided as the policy
 * decides it but from the account as the caller holds it (an approval reads it under its row lock), and
 * without an audit entry (the caller's refusal is audited). Overdue statements are the approval's own check.
 */
export function entryRefusalOf(deps: PolicyDeps, q: Entry, facts: HolderFacts): Promise<PolicyRefusal | null> {
  return policyRefusal(deps, q, facts, { audit: false, overdue: false });
}

/**
 * Whether the policy would stop this holder at this site (age_gate or holder_controls), decided as it
 * decides, without an audit entry: the policy audits when it stops them itself.
 */
export async function holderWouldBeStopped(deps: PolicyDeps, q: Entry): Promise<boolean> {
  return (await policyRefusal(deps, q, await factsOf(deps, q.accountId), { audit: false, overdue: true })) !== null;
}

/**
 * What keeps this holder out of this site when the site redeems a refresh token, which outlives the rules it was
 * issued under (a site's rating raised, a site blocked, adult content turned off, an overdue statement): the
 * policy's own rules, decided (and, with `audit`, audited) as the policy decides and audits them. Introspection and
 * userinfo ask it too, without an audit entry: they are no attempt to enter (oidc/refusal-now.ts).
 */
export async function refreshRefusal(
  deps: PolicyDeps,
  q: Entry,
  { audit = true }: { audit?: boolean } = {},
): Promise<'under_age' | 'spending_control' | OverdueCode | null> {
  const refusal = (await policyRefusal(deps, q, await factsOf(deps, q.accountId), { audit, overdue: true }))?.code ?? null;
  return refusal === null || refusal === 'under_age' || isOverdueCode(refusal) ? refusal : 'spending_control';
}

function isOverdueCode(code: unknown): code is OverdueCode {
  return code === 'delinquent' || code === 'ward_delinquent';
}

/** The site's code for a holder_controls refusal: an overdue statement's own, else spending_control. */
export function controlsRefusalCode(refusal: unknown): 'spending_control' | OverdueCode {
  return isOverdueCode(refusal) ? refusal : 'spending_control';
}

/**
 * One decision per request, shared by a prompt's checks (oidc-provider runs them at once) and made by whichever asks
 * first: one audit entry, and a refused payment counted once under `outcome`. Null without a signed-in holder.
 */
function decidedOncePerRequest<T>(
  deps: PolicyDeps,
  decideFor: (entry: Entry, facts: HolderFacts) => Promise<T | null>,
  outcome: (refusal: T) => string,
): (ctx: KoaContextWithOIDC) => Promise<T | null> {
  const decided = new WeakMap<object, Promise<T | null>>();
  return (ctx) => {
    let d = decided.get(ctx);
    if (!d) {
      const accountId = ctx.oidc.session?.accountId;
      const entry = accountId && { accountId, clientId: ctx.oidc.client!.clientId, ...requestAgeRule(ctx, deps.ratings) };
      d = entry ? factsOf(deps, entry.accountId).then((facts) => decideFor(entry, facts)) : Promise.resolve(null);
      void d.then((refusal) => refusal && countRefusedPayment(deps, ctx, outcome(refusal)), () => undefined);
      decided.set(ctx, d);
    }
    return d;
  };
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
  const consent = policy.get('consent')!;
  const at = consent.checks.findIndex((c) => c.reason === 'op_claims_missing');
  consent.checks.remove('op_claims_missing');
  consent.checks.add(claimsMissingCheck(), at);
  const login = policy.get('login')!;
  const loginDetails = login.details;
  login.details = async (ctx) => {
    const ahead = consentAhead(ctx, deps.ratings);
    return { ...(await loginDetails(ctx)), ...(ahead ? { consentAhead: ahead } : {}) };
  };
  // A session whose holder no longer has an active card (findAccount finds nobody): sign in again, where a blocked
  // card gets its own page. Blocking a card ends its sessions; this covers a race with that, or a card stopped by
  // other means. (Without it the provider would go on to consent with no account and fail with a server error.)
  login.checks.add(
    new Check('account_unavailable', "the session's card holder has no active card", 'login_required', (ctx) =>
      ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );
  login.checks.add(
    new Check('payment_requires_password', 'a payment needs the card password', 'login_required', (ctx) => {
      if (!deps.requirePasswordEachTime || ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      const hasPayment = paymentDetailsOf(ctx.oidc.params as Record<string, unknown>, deps.ratings).length > 0;
      return hasPayment ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );

  // The age gate: two checks, whose rating the holder is under (the site's own, or only the request's), so that
  // each has its own error_description when the provider answers without a page (prompt=none), the code first as
  // on our refusal page's. They share one decision (one audit entry), made by whichever asks first.
  const decideAge = decidedOncePerRequest(deps, (entry, facts) => underAge(deps, entry, facts, true), () => 'under_age');
  const ageCheck = (reason: string, by: RatedBy) =>
    new Check(
      reason,
      UNDER_AGE_DESCRIPTIONS[by],
      'access_denied',
      async (ctx) => ((await decideAge(ctx)) === by ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
      async (ctx) => ({ ...requestAgeRule(ctx, deps.ratings), ratedBy: await decideAge(ctx) }),
    );
  policy.add(new Prompt({ name: 'age_gate', requestable: false }, ageCheck('under_age', 'site'), ageCheck('under_request_rating', 'request')), 1);

  // After the age gate: the holder's own controls (a blocked site, adult content turned off), then (with
  // delinquency.blockLogins) an overdue statement. Two checks, so that each has its own error_description when the
  // provider answers without a page (prompt=none). oidc-provider runs a prompt's checks at once: they share one
  // decision (one audit entry), made by whichever asks first.
  const decide = decidedOncePerRequest(
    deps,
    (entry, facts) => controlsRefusal(deps, entry, facts, { audit: true }),
    (refusal) => controlsRefusalCode(refusal.code),
  );
  const refusalCheck = (reason: string, code: 'spending_control' | OverdueCode) =>
    new Check(
      reason,
      SITE_DESCRIPTIONS[code],
      'access_denied',
      async (ctx) => {
        const refusal = (await decide(ctx))?.code;
        return refusal !== undefined && controlsRefusalCode(refusal) === code ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
      async (ctx) => {
        const refusal = await decide(ctx);
        return {
          refusal: refusal?.code ?? null,
          ...(refusal?.ratedBy ? { ratedBy: refusal.ratedBy } : {}),
          ...(refusal?.wardName !== undefined ? { wardName: refusal.wardName } : {}),
          ...(refusal?.guardian ? { guardian: true } : {}),
        };
      },
    );
  policy.add(
    new Prompt(
      { name: 'holder_controls', requestable: false },
      refusalCheck('holder_controls', 'spending_control'),
      refusalCheck('delinquent', 'delinquent'),
      refusalCheck('ward_delinquent', 'ward_delinquent'),
    ),
    2,
  );
  return policy;
}
