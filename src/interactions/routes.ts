import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type Interaction, type InteractionResults, type KoaContextWithOIDC } from 'oidc-provider';
import { requiredAge, type AgeRule, type RatedBy } from '../approvals/age-gate.ts';
import { approve, pausedByGuardian, type ApprovalCheck } from '../approvals/approve.ts';
import type { ApprovalDeps } from '../approvals/deps.ts';
import { ApprovalRefusedError, inactiveCardMessage, type RefusalCode } from '../approvals/errors.ts';
import { needsStepUp } from '../approvals/require-step-up.ts';
import { HOLDER_CHOICE_DESCRIPTIONS, SITE_DESCRIPTIONS, UNDER_AGE_DESCRIPTIONS } from '../approvals/site-descriptions.ts';
import type { CardDeps } from '../cards/deps.ts';
import { appendAudit } from '../db/audit-log.ts';
import { siteOfInteractionApproval } from '../db/approvals.ts';
import { findActiveCardForAccount } from '../db/cards.ts';
import { findResourceServer } from '../db/member-sites.ts';
import { afterRequestCommit, memoInRequest } from '../db/request-scope.ts';
import { cardThrottleKeyById } from '../db/throttles.ts';
import { AppError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { attemptSource, deviceId } from '../http/device-cookie.ts';
import { formFields, readForm } from '../http/form.ts';
import { currentLocale, languageSwitchTo, preferUiLocales, t, tOr } from '../http/locale.ts';
import type { Renderer } from '../http/render.ts';
import { availableFor } from '../ledger/credit-line.ts';
import { overdueFor, overdueRefusalOf } from '../ledger/delinquency.ts';
import { NO_COUNTS, type EventCounts } from '../lib/event-counts.ts';
import { formatMoney, money } from '../lib/money.ts';
import { accountFacts } from '../oidc/account-facts.ts';
import { controlsRefusalCode, entryRefusalOf, holderWouldBeStopped, requestRatings, type ConsentAhead, type PolicyDeps } from '../oidc/interaction-policy.ts';
import { ageOfClaim } from '../oidc/age-claims-request.ts';
import { allowedClaimsOf, claimAllowed } from '../oidc/allowed-claims.ts';
import { toPaymentDetail, type PaymentDetail } from '../oidc/payment-details.ts';
import { hasSecondFactor } from '../second-factor/verify-step-up.ts';
import { checkCardPassword } from '../throttles/check-card-password.ts';
import { guardAttempt, lockedMessage, throttledMessage, wrongPasswordMessage, type ThrottleDeps } from '../throttles/guard-attempt.ts';
import { noteLogin } from './note-login.ts';
import { ageMessage, controlsMessage, GUARDIAN_OVERDUE_HEADING, HEADINGS, HOLDER_SUMMARIES, nextStepOf } from './refusals.ts';
import { resumeAtOnce } from './resume-at-once.ts';

export interface InteractionDeps {
  provider: Provider;
  /** Body parser for our forms; runs only on routes of this router, never on the provider's. */
  parseBody: Middleware;
  cards: CardDeps;
  render: Renderer;
  approvals: ApprovalDeps;
  /** Per-source throttle and per-card lockout for the password and second-factor forms. */
  throttle: ThrottleDeps;
  /** Extra checks run inside every approval transaction. */
  approvalChecks?: readonly ApprovalCheck[];
  /** Rating labels by age, for the age-gate page. */
  ratings: Readonly<Record<string, number>>;
  /** The interaction policy's settings: the login page looks ahead at whether the policy will let the holder in. */
  entry: PolicyDeps;
  /** Where approval outcomes are counted (metrics); absent: nowhere. */
  counts?: EventCounts;
  /** The time zone times are told to the holder in (config billing.timeZone): the new-device notice's. */
  timeZone: string;
}

class InteractionMismatchError extends AppError {
  constructor() {
    super('interaction_mismatch', 'This page does not belong to your current sign-in. Please start again from the member site.', {
      status: 400,
    });
  }
}

class InteractionExpiredError extends AppError {
  /** The interaction the page or form belongs to, as its URL names it. */
  readonly uid: string;
  constructor(uid: string) {
    super('interaction_expired', 'This sign-in has expired or your browser did not keep its cookies. Please start again from the member site.', {
      status: 400,
    });
    this.uid = uid;
  }
}

/** An interaction's uid as oidc-provider makes them (URL-safe, 43 characters): anything else is not looked up. */
const UID = /^[A-Za-z0-9_-]{1,64}$/;

const LOGIN_FIELDS = ['card_number', 'password', 'csrf'] as const;

/**
 * Describes what a consent prompt asks for, in words a card holder understands; `nameOf` says what a resource server
 * is called (its registered name: its identifier is a URI the holder has no use for).
 */
async function describeAsks(
  details: Record<string, unknown>,
  nameOf: (identifier: string) => Promise<string>,
  allowed: ReadonlySet<string> | undefined,
): Promise<string[]> {
  const asks: string[] = [];
  const scopes = (details.missingOIDCScope as string[] | undefined) ?? [];
  if (scopes.includes('openid')) asks.push('Know that you hold a valid cyber card');
  // Only what the site will be given: the operator's list of its claims may leave out what a scope names.
  if (scopes.includes('profile') && claimAllowed(allowed, 'name')) asks.push('See your name');
  if (scopes.includes('offline_access')) asks.push('Keep you signed in');
  // Named whenever it is missing from the grant: a holder who agreed to other scopes before is asked for it anew.
  if (scopes.includes('birthdate') && claimAllowed(allowed, 'birthdate')) asks.push('See your date of birth');
  // A claims request's age_over_NN (OIDC Core §5.5): the site learns only that the holder is that old.
  for (const claim of (details.missingOIDCClaims as string[] | undefined) ?? []) {
    const age = ageOfClaim(claim);
    if (age !== undefined) asks.push(t('Know that you are {age} or over', { age }));
  }
  const resources = (details.missingResourceScopes as Record<string, string[]> | undefined) ?? {};
  for (const [identifier, s] of Object.entries(resources)) {
    const rs = await nameOf(identifier);
    asks.push(s.length ? t('Access {rs} ({scopes})', { rs, scopes: s.join(', ') }) : t('Access {rs}', { rs }));
  }
  return asks.length ? asks : ['Sign you in'];
}

/** The consent the login prompt worked out ahead (interaction-policy.ts), if it could. */
function consentAheadOf(interaction: Interaction): ConsentAhead | undefined {
  return interaction.prompt.name === 'login' ? (interaction.prompt.details as { consentAhead?: ConsentAhead }).consentAhead : undefined;
}

/** What the interaction asks the holder to consent to: its consent prompt's details, or those worked out ahead. */
function consentDetails(interaction: Interaction): Record<string, unknown> {
  return (consentAheadOf(interaction) as Record<string, unknown> | undefined) ?? interaction.prompt.details;
}

/** What a hosted login saves as the interaction's result. */
interface LoginResult extends InteractionResults {
  login: { accountId: string; amr: string[] };
  cardLast4: string;
  cardId: string;
}

/** A consent (or payment approval) waiting for the holder, who is known. */
interface PendingConsent {
  accountId: string;
  details: Record<string, unknown>;
  /** The login happened in this interaction, its result waits in it, and the consent was worked out ahead. */
  ahead: boolean;
  /** The card the holder logged in with in this sign-in, when known (else their active card is looked up). */
  last4: string | null;
  cardId: string | null;
}

/**
 * The consent this interaction waits for, if the holder may give it now: at the consent prompt before
 * its form was posted (`unanswered`; a page shown again after it was posted still shows it), or after a
 * login in this interaction whose consent was known ahead (its result saved, no consent in it yet).
 */
function pendingConsent(interaction: Interaction, { unanswered = true } = {}): PendingConsent | undefined {
  const result = interaction.result as (LoginResult & { consent?: unknown; error?: unknown }) | undefined;
  if (interaction.prompt.name === 'consent') {
    const accountId = interaction.session?.accountId;
    if (!accountId || (unanswered && result)) return undefined;
    const last = interaction.lastSubmission as Partial<LoginResult> | undefined;
    // The login of this sign-in, if it was one (an SSO session's may have been another card's).
    const sameLogin = last?.login?.accountId === accountId;
    return { accountId, details: interaction.prompt.details, ahead: false, last4: sameLogin ? (last?.cardLast4 ?? null) : null, cardId: sameLogin ? (last?.cardId ?? null) : null };
  }
  const ahead = consentAheadOf(interaction);
  const accountId = result?.login?.accountId;
  if (!ahead || !accountId || result.consent || result.error) return undefined;
  return { accountId, details: ahead as unknown as Record<string, unknown>, ahead: true, last4: result.cardLast4 ?? null, cardId: result.cardId ?? null };
}

/** The payment a consent is about, if it is a payment (validated by the provider already). */
function paymentOf(details: Record<string, unknown>, ratings: Readonly<Record<string, number>>): PaymentDetail | undefined {
  const d = (details as { rar?: Array<Record<string, unknown>> }).rar?.find((x) => x.type === 'payment');
  return d && toPaymentDetail(d, ratings);
}

/** A payment as the hosted pages show it (views/partials/payment.ejs): on the approval page, and the login page before it. */
function presentPayment(payment: PaymentDetail): { amount: string; description: string; rating: number | null } {
  return { amount: formatMoney(payment.amount, payment.currency, currentLocale()), description: payment.description, rating: payment.rating ?? null };
}

/** A refusal decided before or outside approve(): the same shape, so one page and one audit serve all. */
function refusal(code: RefusalCode, message: string, opts?: { siteDescription?: string }): ApprovalRefusedError {
  return new ApprovalRefusedError(code, message, opts);
}

/** Whose rating the age_gate or holder_controls prompt says refused (details.ratedBy); the site's when it does not say. */
function ratedByOf(details: Record<string, unknown>): RatedBy {
  return details.ratedBy === 'request' ? 'request' : 'site';
}

/**
 * The hosted login, consent, approval and abort pages that drive oidc-provider's interactions: their
 * routes, and the provider middleware that shows an interaction's first page at /auth itself.
 */
export function interactionRoutes({
  provider,
  parseBody,
  cards,
  render,
  approvals,
  throttle,
  approvalChecks = [],
  entry,
  ratings,
  counts = NO_COUNTS,
  timeZone,
}: InteractionDeps): { router: Router; showAtOnce: (ctx: KoaContextWithOIDC, next: Next) => Promise<void> } {
  const router = new Router({ prefix: '/interaction' });
  router.use(parseBody);
  router.use(explainFinishedPayment);

  const resume = resumeAtOnce(provider);

  /**
   * Counts a payment's outcome (`approved`, or the refusal's code) once the request's transaction has
   * committed it, as the approval or the refusal's audit entry: a request that fails afterwards rolls them
   * back and counts nothing. Outside a request transaction (the embedded database) they are committed already.
   */
  function countApproval(outcome: string): void {
    if (!afterRequestCommit(() => counts.approval(outcome))) counts.approval(outcome);
  }

  /**
   * Stores the interaction's result and answers with the provider's resume of it, in this request and its
   * transaction (see resume-at-once.ts): the member site's redirect, or the next interaction's page.
   */
  async function finishInteraction(ctx: Context, result: InteractionResults, options: { mergeWithLastSubmission: boolean }): Promise<void> {
    const uid = ctx.params.uid!;
    await resume(ctx, uid, await provider.interactionResult(ctx.req, ctx.res, result, options));
  }

  /** The interaction for this browser, refusing a uid that is not the one its cookie names. */
  async function loadInteraction(ctx: Context): Promise<Interaction> {
    // SessionNotFound's message is the bare code 'invalid_request': give the holder words instead.
    const interaction = await provider.interactionDetails(ctx.req, ctx.res).catch((err: unknown) => {
      throw err instanceof errors.SessionNotFound ? new InteractionExpiredError(String(ctx.params.uid)) : err;
    });
    if (interaction.uid !== ctx.params.uid) throw new InteractionMismatchError();
    // The member site's ui_locales (OIDC Core §3.1.2.1) decides the page language before Accept-Language.
    preferUiLocales(ctx, interaction.params.ui_locales);
    ctx.set('Cache-Control', 'no-store');
    return interaction;
  }

  /**
   * A payment's page reached again once it has ended (the Back button from the member site lands on the approval page,
   * or a reload posts its form again): the interaction is gone, so the page cannot be shown, and "expired, start
   * again" would have the holder pay a second time. When this interaction approved a payment, say it is complete,
   * with a link back to the site. Nothing is approved again either way: the form's routes stop at loadInteraction.
   */
  async function explainFinishedPayment(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof InteractionExpiredError) || !UID.test(err.uid)) throw err;
      const clientId = await siteOfInteractionApproval(cards.db, err.uid);
      if (!clientId) throw err;
      ctx.state.log.info({ interaction: err.uid }, 'finished payment reached again');
      const client = await provider.Client.find(clientId);
      ctx.status = 409; // the page or form cannot be had again; the body says why
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await render('interaction/finished', {
        title: 'This payment is complete',
        siteName: client?.clientName ?? t('the member site'),
        homepage: client?.clientUri ?? null,
      });
    }
  }

  /**
   * A resource server as the holder is told of it: the name the operator registered it under (read as the provider's
   * getResourceServerInfo reads it, remembered for the request), or its identifier if it has gone since.
   */
  async function resourceServerName(identifier: string): Promise<string> {
    const read = () => approvals.directory?.resourceServer(cards.db, identifier) ?? findResourceServer(cards.db, identifier);
    return (await memoInRequest(`resource-server:${identifier}`, read))?.name ?? identifier;
  }

  async function siteFor(interaction: Interaction) {
    const client = await provider.Client.find(String(interaction.params.client_id));
    return { name: client?.clientName ?? t('A member site'), logoUri: client?.logoUri ?? null };
  }

  /** What the consent prompt asks for, in the holder's words, as the interaction's member site will be given it. */
  async function asksOf(interaction: Interaction, details: Record<string, unknown>): Promise<string[]> {
    const allowed = allowedClaimsOf(await provider.Client.find(String(interaction.params.client_id)));
    return describeAsks(details, resourceServerName, allowed);
  }

  async function renderLogin(
    ctx: Context,
    interaction: Interaction,
    opts: { error?: string; values?: Record<string, string>; fields?: Record<string, string>; status?: number },
  ) {
    // A payment's login (always asked for, even inside a signed-in session): the page says what it is for.
    const ahead = consentAheadOf(interaction);
    const payment = ahead && paymentOf(ahead as unknown as Record<string, unknown>, ratings);
    ctx.status = opts.status ?? 200;
    ctx.type = 'html';
    ctx.body = await render('interaction/login', {
      title: payment ? 'Pay with cyber card' : 'Log in with cyber card',
      uid: interaction.uid,
      site: await siteFor(interaction),
      payment: payment ? presentPayment(payment) : null,
      signedIn: Boolean(interaction.session?.accountId),
      csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
      error: opts.error ?? null,
      values: { card_number: opts.values?.card_number ?? '' },
      fields: opts.fields ?? {},
    });
  }

  /** A page that stops here; its only button goes back to the site (abort), which then gets access_denied. */
  async function renderStop(ctx: Context, interaction: Interaction, heading: string, message: string) {
    const site = await siteFor(interaction);
    ctx.status = 403;
    ctx.type = 'html';
    ctx.body = await render('interaction/blocked', {
      title: heading,
      heading,
      message,
      siteName: site.name,
      uid: interaction.uid,
      csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
    });
  }

  async function renderApprove(
    ctx: Context,
    interaction: Interaction,
    pending: PendingConsent,
    payment: PaymentDetail,
    opts: { error?: string; fields?: Record<string, string>; status?: number } = {},
  ) {
    const { accountId, details } = pending;
    const facts = await accountFacts(cards.db, accountId);
    const line = facts?.line;
    const available = line ? await availableFor(cards.db, line, payment.amount) : undefined;
    const last4 = pending.last4 ?? (await findActiveCardForAccount(cards.db, accountId))?.last4 ?? null;
    const asks = (await asksOf(interaction, details)).filter((a) => a !== 'Sign you in');
    ctx.status = opts.status ?? 200;
    ctx.type = 'html';
    ctx.body = await render('interaction/approve', {
      title: 'Approve payment',
      uid: interaction.uid,
      site: await siteFor(interaction),
      payment: presentPayment(payment),
      available: line && available !== undefined ? formatMoney(available, line.currency, currentLocale()) : '—',
      // Said before the click: approve() refuses it all the same (over_limit), under the account's lock.
      overLimit: available !== undefined ? available < payment.amount : false,
      // Said before the click too: an overdue statement (the card's own, its guardian's or a ward's), in the words of the
      // refusal page; approve() refuses it all the same (delinquent, ward_delinquent), under the account's lock.
      overdue: await overdueWarning(accountId),
      // A child's card its guardian paused (limit 0): repaying brings nothing back, the guardian does.
      paused: facts ? pausedByGuardian(facts.account, facts.line) : false,
      last4,
      asks,
      ...(await stepUpOf(accountId, payment)),
      error: opts.error ?? null,
      fields: opts.fields ?? {},
      csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
    });
  }

  /** The refusal page's message for an overdue statement that stops this account's charges, if one does. */
  async function overdueWarning(accountId: string): Promise<string | null> {
    const overdue = await overdueFor(cards.db, accountId, approvals.policy.delinquency);
    if (!overdue) return null;
    const err = overdueRefusalOf(overdue);
    return tOr(err.message, HOLDER_SUMMARIES[err.refusal]);
  }

  /**
   * Whether the approval page asks for an authenticator code (`stepUp`), or says before the click that the payment
   * needs one the card has not set up (`stepUpMissing`, with the limit): approve() refuses it all the same
   * (step_up_required), as it refuses a payment over the available credit the page also says ahead.
   */
  async function stepUpOf(accountId: string, payment: PaymentDetail) {
    if (!needsStepUp(approvals, payment.amount)) return { stepUp: false, stepUpMissing: null };
    const enrolled = await hasSecondFactor(cards.db, accountId);
    return { stepUp: enrolled, stepUpMissing: enrolled ? null : money(approvals.policy.stepUpAbove!, payment.currency) };
  }

  router.get('/:uid', async function showInteraction(ctx) {
    await showPage(ctx, await loadInteraction(ctx));
  });

  /**
   * For oidc-provider (provider.use): the authorization endpoint answers with the interaction's page
   * itself rather than a redirect to it, one request (and a round trip for the browser) fewer. A reload
   * of that /auth URL starts a fresh interaction; the page's forms post to /interaction/:uid as ever.
   * Interactions started on a resume keep the redirect: their /auth/:uid is spent once resumed.
   */
  async function showAtOnce(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    await next();
    const interaction = ctx.oidc?.entities?.Interaction as Interaction | undefined;
    if (ctx.oidc?.route !== 'authorization' || ctx.status !== 303 || !interaction) return;
    if (ctx.response.get('Location') !== `/interaction/${interaction.uid}`) return;
    ctx.remove('Location');
    ctx.status = 200; // a page that stops the holder sets its own
    preferUiLocales(ctx, interaction.params.ui_locales);
    languageSwitchTo(`/interaction/${interaction.uid}`);
    ctx.set('Cache-Control', 'no-store');
    await showPage(ctx, interaction);
  }

  /** The page an interaction shows now: the login form, the consent or approval page, or why it stops. */
  async function showPage(ctx: Context, interaction: Interaction): Promise<void> {
    // Set the device cookie before any form is posted, so the per-device throttle sees the first attempt.
    deviceId(ctx);
    const prompt = interaction.prompt.name;
    if (prompt === 'login') {
      const pending = pendingConsent(interaction);
      // Logged in here already, the consent known ahead: the page that comes next (a reload lands here).
      if (pending) return renderConsentStep(ctx, interaction, pending);
      await renderLogin(ctx, interaction, {});
      return;
    }
    const site = await siteFor(interaction);
    const details = interaction.prompt.details;
    if (prompt === 'age_gate') {
      const rule: AgeRule = { requiredAge: Number(details.requiredAge ?? 0), siteRating: Number(details.siteRating ?? details.requiredAge ?? 0) };
      return renderStop(ctx, interaction, t('This content is for {age} and over', { age: rule.requiredAge }), ageMessage(ratedByOf(details), site.name, rule));
    }
    if (prompt === 'holder_controls') {
      const kind = details.refusal;
      return renderStop(
        ctx,
        interaction,
        kind === 'delinquent'
          ? details.guardian === true
            ? GUARDIAN_OVERDUE_HEADING
            : 'This card has an overdue statement'
          : kind === 'ward_delinquent'
            ? HEADINGS.ward_delinquent
            : HEADINGS.spending_control,
        controlsMessage(kind, site.name, ratedByOf(details), typeof details.wardName === 'string' ? details.wardName : undefined, details.guardian === true),
      );
    }
    await renderConsentStep(ctx, interaction, pendingConsent(interaction, { unanswered: false }));
  }

  /**
   * The card of a holder already signed in to the card manager, whom the consent page of a new request meets with no
   * login of its own to have read the card from: the account's active card (one at a time; a reissue replaces it).
   */
  async function sessionCardLast4(interaction: Interaction): Promise<string | null> {
    const accountId = interaction.session?.accountId;
    return accountId ? ((await findActiveCardForAccount(cards.db, accountId))?.last4 ?? null) : null;
  }

  /** The consent page, or the approval page of a payment, for the holder who is about to give it. */
  async function renderConsentStep(ctx: Context, interaction: Interaction, pending: PendingConsent | undefined) {
    const payment = pending && paymentOf(pending.details, ratings);
    if (pending && payment) return renderApprove(ctx, interaction, pending, payment);
    ctx.type = 'html';
    ctx.body = await render('interaction/consent', {
      title: 'Allow access',
      uid: interaction.uid,
      site: await siteFor(interaction),
      asks: await asksOf(interaction, pending?.details ?? interaction.prompt.details),
      last4: pending?.last4 ?? (interaction.lastSubmission as { cardLast4?: string } | undefined)?.cardLast4 ?? (await sessionCardLast4(interaction)),
      csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
    });
  }

  router.post('/:uid/login', async function submitLogin(ctx) {
    const interaction = await loadInteraction(ctx);
    const waiting = interaction.prompt.name === 'login' ? pendingConsent(interaction) : undefined;
    if (waiting) {
      // Logged in here already (a reload re-posts the form whose answer was the approval page): that page
      // again, as its GET shows it; the password posted again is not checked, nothing else happens.
      checkCsrf(ctx, `interaction:${interaction.uid}`, formFields(ctx, LOGIN_FIELDS).csrf);
      return renderConsentStep(ctx, interaction, waiting);
    }
    if (interaction.prompt.name !== 'login' || interaction.result) throw new InteractionMismatchError();
    const { values: form, refused } = readForm(ctx, LOGIN_FIELDS);
    if (refused) return renderLogin(ctx, interaction, { status: 400, error: refused.message, values: form, fields: refused.fields ?? {} });
    checkCsrf(ctx, `interaction:${interaction.uid}`, form.csrf);
    const values = { card_number: form.card_number ?? '' };
    if (!form.card_number || !form.password) {
      return renderLogin(ctx, interaction, {
        status: 400,
        error: 'Enter your card number and password.',
        values,
        fields: {
          ...(form.card_number ? {} : { card_number: 'Enter the 16-digit card number.' }),
          ...(form.password ? {} : { password: 'Enter your password.' }),
        },
      });
    }
    if (form.password.length > 1024) {
      return renderLogin(ctx, interaction, { status: 400, error: 'That password is too long.', values });
    }
    const outcome = await checkCardPassword(
      { cards, throttle },
      {
        cardNumber: form.card_number,
        password: form.password,
        source: attemptSource(ctx),
        via: { page: 'site_login', clientId: String(interaction.params.client_id) },
      },
    );
    switch (outcome.kind) {
      case 'throttled':
        ctx.set('Retry-After', String(outcome.retryAfterSeconds));
        return renderLogin(ctx, interaction, {
          status: 429,
          error: throttledMessage(outcome.retryAfterSeconds),
          values,
        });
      case 'wrong':
        ctx.state.log.info({ interaction: interaction.uid }, 'login refused');
        return renderLogin(ctx, interaction, { status: 401, error: wrongPasswordMessage(throttle.limits.card.maxFailures), values });
      case 'locked':
        return refuse(ctx, interaction, refusal('card_locked', lockedMessage(outcome.until, throttle.timeZone)));
      case 'inactive':
        return refuse(ctx, interaction, refusal('card_inactive', inactiveCardMessage(outcome.card.status)), outcome.card.accountId, outcome.card.id);
    }
    const { card } = outcome;
    await appendAudit(cards.db, {
      actor: `card:${card.id}`,
      action: 'card.login',
      subjectType: 'card',
      subjectId: card.id,
      details: { clientId: String(interaction.params.client_id) },
      requestId: ctx.state.requestId,
    });
    await noteLogin(ctx, cards, { accountId: card.accountId, siteName: (await siteFor(interaction)).name, timeZone });
    const result: LoginResult = { login: { accountId: card.accountId, amr: ['pwd'] }, cardLast4: card.last4, cardId: card.id };
    const ahead = consentAheadOf(interaction);
    const clientId = String(interaction.params.client_id);
    const rule: AgeRule = { requiredAge: ahead?.requiredAge ?? 0, siteRating: ahead?.siteRating ?? ahead?.requiredAge ?? 0 };
    if (ahead && !(await holderWouldBeStopped(entry, { accountId: card.accountId, clientId, ...rule }))) {
      // The consent is known ahead: it is this answer's page, and the login waits in the interaction for it.
      // (A holder the policy will stop goes back to the provider instead, which shows them why.)
      await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      interaction.result = result; // as saved: the page is the one a reload of this interaction shows
      return renderConsentStep(ctx, interaction, pendingConsent(interaction));
    }
    await finishInteraction(ctx, result, { mergeWithLastSubmission: false });
  });

  router.post('/:uid/confirm', async function confirmConsent(ctx) {
    const interaction = await loadInteraction(ctx);
    // A result is already saved (the form was posted before and the browser has not resumed yet): a replay.
    const pending = pendingConsent(interaction);
    if (!pending) throw new InteractionMismatchError();
    const form = formFields(ctx, ['csrf', 'totp']);
    checkCsrf(ctx, `interaction:${interaction.uid}`, form.csrf);
    const { accountId } = pending;
    const details = pending.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    // Worked out ahead, the consent is for a grant that starts empty (interaction-policy.ts).
    const grant =
      interaction.grantId && !pending.ahead
        ? await provider.Grant.find(interaction.grantId)
        : new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
    if (!grant) throw new InteractionMismatchError();
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const payment = paymentOf(pending.details, ratings);
    if (payment) {
      const stepUp = needsStepUp(approvals, payment.amount);
      const code = (form.totp ?? '').replace(/\s/g, '');
      if (stepUp && !/^\d{6}$/.test(code) && (await hasSecondFactor(cards.db, accountId))) {
        const message = 'Enter the 6-digit code from your authenticator app.';
        return renderApprove(ctx, interaction, pending, payment, { status: 400, error: message, fields: { totp: message } });
      }
      // The card of this sign-in's login (approve() refuses it if it is no longer active), else the active one.
      const cardId = pending.cardId ?? (await findActiveCardForAccount(cards.db, accountId))?.id;
      if (!cardId) return refuse(ctx, interaction, refusal('card_inactive', inactiveCardMessage(undefined)), accountId);
      // The age gate and the holder's own controls, decided again under the account lock: a birthdate
      // corrected, or adult content turned off, since the policy let the holder in moves no money.
      const clientId = String(interaction.params.client_id);
      const raisedTo = requestRatings(interaction.params, ratings);
      const stillAdmitted: ApprovalCheck = async ({ account, controls, site }) => {
        const rule: AgeRule = { siteRating: site.contentRating, requiredAge: requiredAge(site.contentRating, raisedTo) };
        const why = await entryRefusalOf(entry, { accountId, clientId, ...rule }, { birthdate: account.birthdate, controls });
        if (why?.code === 'under_age') {
          const by = why.ratedBy ?? 'site';
          throw refusal('under_age', ageMessage(by, site.name, rule), { siteDescription: UNDER_AGE_DESCRIPTIONS[by] });
        }
        if (why) throw refusal('spending_control', controlsMessage(why.code, site.name, why.ratedBy));
      };
      const approveIt = () =>
        approve(
          approvals,
          {
            accountId,
            cardId,
            clientId,
            amount: payment.amount,
            currency: payment.currency,
            description: payment.description,
            contentRef: payment.content_ref ?? null,
            rating: payment.rating ?? 0,
            requestId: ctx.state.requestId,
            interactionUid: interaction.uid,
            // PKCE is required of every request (oidc/provider.ts), and its challenge is fresh per request.
            requestKey: typeof interaction.params.code_challenge === 'string' ? interaction.params.code_challenge : undefined,
            ...(stepUp ? { secondFactorCode: code } : {}),
          },
          [stillAdmitted, ...approvalChecks],
        );
      try {
        let approval;
        if (stepUp) {
          // A second-factor code is guessable: throttled per source and counted towards the card lockout.
          const guarded = await guardAttempt(
            throttle,
            { source: attemptSource(ctx), cardKey: await cardThrottleKeyById(cards.db, cardId), check: 'second_factor' },
            approveIt,
            (err) => err instanceof ApprovalRefusedError && err.refusal === 'step_up_failed',
          );
          if (guarded.kind === 'throttled') {
            ctx.set('Retry-After', String(guarded.retryAfterSeconds));
            return renderApprove(ctx, interaction, pending, payment, { status: 429, error: throttledMessage(guarded.retryAfterSeconds) });
          }
          if (guarded.kind === 'locked') return refuse(ctx, interaction, refusal('card_locked', lockedMessage(guarded.until, throttle.timeZone)), accountId, cardId);
          if (guarded.kind === 'failed') throw guarded.error;
          approval = guarded.value;
        } else {
          approval = await approveIt();
        }
        grant.addRar({ ...payment, approval_no: approval.approvalNo });
        countApproval('approved');
      } catch (err) {
        if (!(err instanceof ApprovalRefusedError)) throw err;
        return refuse(ctx, interaction, err, accountId, cardId);
      }
    }
    const grantId = await grant.save();
    if (details.missingOIDCScope?.includes('birthdate')) {
      // The holder's own record of which site they let see their date of birth (their activity shows it).
      await appendAudit(cards.db, {
        actor: `account:${accountId}`,
        action: 'consent.birthdate_shared',
        subjectType: 'account',
        subjectId: accountId,
        details: { clientId: String(interaction.params.client_id) },
        requestId: ctx.state.requestId,
      });
    }
    if (pending.ahead) {
      // The login result saved in this interaction, completed: the provider takes both on the resume.
      await finishInteraction(ctx, { ...interaction.result, consent: { grantId } }, { mergeWithLastSubmission: false });
      return;
    }
    await finishInteraction(ctx, { consent: interaction.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
  });

  /**
   * Ends the interaction with access_denied for the member site (a description per refusal that tells
   * the site what happened, never the holder's figures), audits the refusal, and shows the holder why,
   * with a link back to the site (which then receives the error).
   */
  async function refuse(ctx: Context, interaction: Interaction, err: ApprovalRefusedError, accountId?: string, cardId?: string): Promise<void> {
    const clientId = String(interaction.params.client_id);
    const payment = Boolean(paymentOf(consentDetails(interaction), ratings));
    await appendAudit(cards.db, {
      actor: accountId ? `account:${accountId}` : 'anonymous',
      action: 'access.refused',
      subjectType: accountId ? 'account' : 'member_site',
      subjectId: accountId ?? clientId,
      // The card it concerns, when known: the holder's activity marks a wrong authenticator code with it.
      details: { refusal: err.refusal, clientId, payment, ...(cardId ? { cardId } : {}) },
      requestId: ctx.state.requestId,
    });
    // A payment refused here, at the approval or at its login (a locked or stopped card), is refused for good.
    if (payment) countApproval(err.refusal);
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: err.siteDescription ?? SITE_DESCRIPTIONS[err.refusal] },
      { mergeWithLastSubmission: false },
    );
    const site = await siteFor(interaction);
    ctx.status = 403;
    ctx.type = 'html';
    ctx.body = await render('interaction/blocked', {
      title: err.heading ?? HEADINGS[err.refusal],
      heading: err.heading ?? HEADINGS[err.refusal],
      // Messages built deep in a domain (with figures) may lack a translation: then the refusal's own summary.
      message: tOr(err.message, HOLDER_SUMMARIES[err.refusal]),
      nextStep: nextStepOf(err),
      siteName: site.name,
      returnTo,
    });
  }

  router.post('/:uid/abort', async function abortInteraction(ctx) {
    const interaction = await loadInteraction(ctx);
    // Approved already (Approve, then Cancel before the browser moved on): the approval stands and goes
    // to the site; an abort now would leave a hold the site never hears of.
    if ((interaction.result as { consent?: unknown } | undefined)?.consent) throw new InteractionMismatchError();
    const form = formFields(ctx, ['csrf']);
    checkCsrf(ctx, `interaction:${interaction.uid}`, form.csrf);
    const prompt = interaction.prompt.name;
    const description =
      prompt === 'age_gate'
        ? UNDER_AGE_DESCRIPTIONS[ratedByOf(interaction.prompt.details)]
        : prompt === 'holder_controls'
          ? SITE_DESCRIPTIONS[controlsRefusalCode((interaction.prompt.details as { refusal?: unknown }).refusal)]
          : paymentOf(consentDetails(interaction), ratings)
            ? HOLDER_CHOICE_DESCRIPTIONS.declined
            : HOLDER_CHOICE_DESCRIPTIONS.cancelled;
    await finishInteraction(
      ctx,
      { error: 'access_denied', error_description: description },
      { mergeWithLastSubmission: false },
    );
  });

  return { router, showAtOnce };
}
