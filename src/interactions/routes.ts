import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type Interaction } from 'oidc-provider';
import type { CardDeps } from '../cards/deps.ts';
import { verifyCredentials } from '../cards/verify-credentials.ts';
import { AppError, InvalidCredentialsError, ValidationError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { formFields } from '../http/form.ts';
import type { Renderer } from '../http/render.ts';
import { appendAudit } from '../db/audit-log.ts';
import { noteLogin } from './note-login.ts';
import { approve, type ApprovalCheck } from '../approvals/approve.ts';
import type { ApprovalDeps } from '../approvals/deps.ts';
import { ApprovalRefusedError } from '../approvals/errors.ts';
import { findActiveCardForAccount } from '../db/cards.ts';
import { readCreditLine } from '../db/credit-lines.ts';
import { availableCredit } from '../ledger/credit-line.ts';
import { formatMoney } from '../lib/money.ts';
import type { PaymentDetail } from '../oidc/payment-details.ts';

export interface InteractionDeps {
  provider: Provider;
  /** Body parser for our forms; runs only on routes of this router, never on the provider's. */
  parseBody: Middleware;
  cards: CardDeps;
  render: Renderer;
  approvals: ApprovalDeps;
  /** Extra checks run inside every approval transaction (velocity, spending controls, …). */
  approvalChecks?: readonly ApprovalCheck[];
  /** Rating labels by age, for the age-gate page. */
  ratings: Readonly<Record<string, number>>;
}

class InteractionMismatchError extends AppError {
  constructor() {
    super('interaction_mismatch', 'This page does not belong to your current sign-in. Please start again from the member site.', {
      status: 400,
    });
  }
}

class InteractionExpiredError extends AppError {
  constructor() {
    super('interaction_expired', 'This sign-in has expired or your browser did not keep its cookies. Please start again from the member site.', {
      status: 400,
    });
  }
}

const LOGIN_FIELDS = ['card_number', 'password', 'csrf'] as const;

/** Describes what a consent prompt asks for, in words a card holder understands. */
function describeAsks(details: Record<string, unknown>): string[] {
  const asks: string[] = [];
  const scopes = (details.missingOIDCScope as string[] | undefined) ?? [];
  if (scopes.includes('openid')) asks.push('Know that you hold a valid cyber card');
  if (scopes.includes('profile')) asks.push('See your name');
  if (scopes.includes('offline_access')) asks.push('Keep you signed in');
  const resources = (details.missingResourceScopes as Record<string, string[]> | undefined) ?? {};
  for (const [rs, s] of Object.entries(resources)) {
    asks.push(`Access ${rs}${s.length ? ` (${s.join(', ')})` : ''}`);
  }
  return asks.length ? asks : ['Sign you in'];
}

/** The payment a consent prompt is about, if it is a payment (validated by the provider already). */
function paymentOf(interaction: Interaction): PaymentDetail | undefined {
  const rar = (interaction.prompt.details as { rar?: Array<Record<string, unknown>> }).rar;
  const d = rar?.find((x) => x.type === 'payment');
  if (!d) return undefined;
  return {
    type: 'payment',
    amount: Number(d.amount),
    currency: String(d.currency),
    description: String(d.description).trim(),
    ...(typeof d.content_ref === 'string' ? { content_ref: d.content_ref } : {}),
    ...(d.rating !== undefined ? { rating: Number(d.rating) } : {}),
  };
}

/** The hosted login, consent, approval and abort pages that drive oidc-provider's interactions. */
export function interactionRoutes({
  provider,
  parseBody,
  cards,
  render,
  approvals,
  approvalChecks = [],
  ratings,
}: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction' });
  router.use(parseBody);

  /** The interaction for this browser, refusing a uid that is not the one its cookie names. */
  async function loadInteraction(ctx: Context): Promise<Interaction> {
    // SessionNotFound's message is the bare code 'invalid_request': give the holder words instead.
    const interaction = await provider.interactionDetails(ctx.req, ctx.res).catch((err: unknown) => {
      throw err instanceof errors.SessionNotFound ? new InteractionExpiredError() : err;
    });
    if (interaction.uid !== ctx.params.uid) throw new InteractionMismatchError();
    ctx.set('Cache-Control', 'no-store');
    return interaction;
  }

  async function siteFor(interaction: Interaction) {
    const client = await provider.Client.find(String(interaction.params.client_id));
    return { name: client?.clientName ?? 'A member site', logoUri: client?.logoUri ?? null };
  }

  async function renderLogin(
    ctx: Context,
    interaction: Interaction,
    opts: { error?: string; values?: Record<string, string>; fields?: Record<string, string>; status?: number },
  ) {
    ctx.status = opts.status ?? 200;
    ctx.type = 'html';
    ctx.body = await render('interaction/login', {
      title: 'Log in with cyber card',
      uid: interaction.uid,
      site: await siteFor(interaction),
      csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
      error: opts.error ?? null,
      values: { card_number: opts.values?.card_number ?? '' },
      fields: opts.fields ?? {},
    });
  }

  router.get('/:uid', async function showInteraction(ctx) {
    const interaction = await loadInteraction(ctx);
    if (interaction.prompt.name === 'login') {
      await renderLogin(ctx, interaction, {});
      return;
    }
    const site = await siteFor(interaction);
    if (interaction.prompt.name === 'age_gate') {
      const age = Number((interaction.prompt.details as { requiredAge?: number }).requiredAge ?? 0);
      ctx.status = 403;
      ctx.type = 'html';
      ctx.body = await render('interaction/blocked', {
        title: 'Age restricted',
        heading: `This content is for ${age} and over`,
        message: `${site.name} is rated ${age}+. Your cyber card cannot be used to enter it.`,
        siteName: site.name,
        uid: interaction.uid,
        csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
      });
      return;
    }
    const payment = paymentOf(interaction);
    if (payment && interaction.session?.accountId) {
      const line = await readCreditLine(cards.db, interaction.session.accountId);
      const card = await findActiveCardForAccount(cards.db, interaction.session.accountId);
      const asks = describeAsks(interaction.prompt.details).filter((a) => a !== 'Sign you in');
      ctx.type = 'html';
      ctx.body = await render('interaction/approve', {
        title: 'Approve payment',
        uid: interaction.uid,
        site,
        amount: formatMoney(payment.amount, payment.currency),
        description: payment.description,
        available: line ? formatMoney(availableCredit(line), line.currency) : '—',
        rating: payment.rating ?? null,
        last4: card?.last4 ?? null,
        asks,
        csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
      });
      return;
    }
    ctx.type = 'html';
    ctx.body = await render('interaction/consent', {
      title: 'Allow access',
      uid: interaction.uid,
      site,
      asks: describeAsks(interaction.prompt.details),
      last4: (interaction.lastSubmission as { cardLast4?: string } | undefined)?.cardLast4 ?? null,
      csrf: csrfToken(ctx, `interaction:${interaction.uid}`),
    });
  });

  router.post('/:uid/login', async function submitLogin(ctx) {
    const interaction = await loadInteraction(ctx);
    if (interaction.prompt.name !== 'login') throw new InteractionMismatchError();
    let form: Record<string, string>;
    try {
      form = formFields(ctx, LOGIN_FIELDS);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const { values } = err as ValidationError & { values?: Record<string, string> };
      return renderLogin(ctx, interaction, { status: 400, error: err.message, values, fields: err.fields ?? {} });
    }
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
    let card;
    try {
      card = await verifyCredentials(cards, form.card_number, form.password);
    } catch (err) {
      if (!(err instanceof InvalidCredentialsError)) throw err;
      ctx.state.log.info({ interaction: interaction.uid }, 'login refused');
      return renderLogin(ctx, interaction, { status: 401, error: err.message, values });
    }
    await appendAudit(cards.db, {
      actor: `card:${card.id}`,
      action: 'card.login',
      subjectType: 'card',
      subjectId: card.id,
      details: { clientId: String(interaction.params.client_id) },
      requestId: ctx.state.requestId,
    });
    await noteLogin(ctx, cards, card.accountId, (await siteFor(interaction)).name);
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: card.accountId, amr: ['pwd'] }, cardLast4: card.last4 },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
  });

  router.post('/:uid/confirm', async function confirmConsent(ctx) {
    const interaction = await loadInteraction(ctx);
    if (interaction.prompt.name !== 'consent') throw new InteractionMismatchError();
    const form = formFields(ctx, ['csrf']);
    checkCsrf(ctx, `interaction:${interaction.uid}`, form.csrf);
    const accountId = interaction.session?.accountId;
    if (!accountId) throw new InteractionMismatchError();
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
    if (!grant) throw new InteractionMismatchError();
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const payment = paymentOf(interaction);
    if (payment) {
      const card = await findActiveCardForAccount(cards.db, accountId);
      try {
        if (!card) throw new ApprovalRefusedError('card_inactive', 'This card is not active, so it cannot approve payments.');
        const approval = await approve(
          approvals,
          {
            accountId,
            cardId: card.id,
            clientId: String(interaction.params.client_id),
            amount: payment.amount,
            currency: payment.currency,
            description: payment.description,
            contentRef: payment.content_ref ?? null,
            rating: payment.rating ?? 0,
            requestId: ctx.state.requestId,
          },
          approvalChecks,
        );
        grant.addRar({ ...payment, approval_no: approval.approvalNo });
      } catch (err) {
        if (!(err instanceof ApprovalRefusedError)) throw err;
        return refuse(ctx, interaction, err);
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { consent: interaction.grantId ? {} : { grantId } },
      { mergeWithLastSubmission: true },
    );
    ctx.respond = false;
  });

  /**
   * Ends the interaction with access_denied for the member site, and shows the holder why,
   * with a link back to the site (which then receives the error).
   */
  async function refuse(ctx: Context, interaction: Interaction, err: ApprovalRefusedError): Promise<void> {
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: `${err.refusal}: ${err.message}` },
      { mergeWithLastSubmission: false },
    );
    const site = await siteFor(interaction);
    ctx.status = 403;
    ctx.type = 'html';
    ctx.body = await render('interaction/blocked', {
      title: 'Payment not approved',
      heading: 'Payment not approved',
      message: err.message,
      siteName: site.name,
      returnTo,
    });
  }

  router.post('/:uid/abort', async function abortInteraction(ctx) {
    const interaction = await loadInteraction(ctx);
    const form = formFields(ctx, ['csrf']);
    checkCsrf(ctx, `interaction:${interaction.uid}`, form.csrf);
    const description =
      interaction.prompt.name === 'age_gate'
        ? 'under_age: the card holder is under the age this content requires.'
        : paymentOf(interaction)
          ? 'The card holder declined the payment.'
          : 'The card holder cancelled the request.';
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: description },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
  });

  return router;
}
