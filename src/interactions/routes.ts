import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Interaction } from 'oidc-provider';
import type { CardDeps } from '../cards/deps.ts';
import { verifyCredentials } from '../cards/verify-credentials.ts';
import { AppError, InvalidCredentialsError, ValidationError } from '../errors.ts';
import { checkCsrf, csrfToken } from '../http/csrf.ts';
import { formFields } from '../http/form.ts';
import type { Renderer } from '../http/render.ts';
import { appendAudit } from '../db/audit-log.ts';

export interface InteractionDeps {
  provider: Provider;
  /** Body parser for our forms; runs only on routes of this router, never on the provider's. */
  parseBody: Middleware;
  cards: CardDeps;
  render: Renderer;
}

class InteractionMismatchError extends AppError {
  constructor() {
    super('interaction_mismatch', 'This page does not belong to your current sign-in. Please start again from the member site.', {
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

/** The hosted login, consent and abort pages that drive oidc-provider's interactions. */
export function interactionRoutes({ provider, parseBody, cards, render }: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction' });
  router.use(parseBody);

  /** The interaction for this browser, refusing a uid that is not the one its cookie names. */
  async function loadInteraction(ctx: Context): Promise<Interaction> {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
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
    ctx.type = 'html';
    ctx.body = await render('interaction/consent', {
      title: 'Allow access',
      uid: interaction.uid,
      site: await siteFor(interaction),
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
      return renderLogin(ctx, interaction, { status: 400, error: err.message, fields: err.fields ?? {} });
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
    const grantId = await grant.save();
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { consent: interaction.grantId ? {} : { grantId } },
      { mergeWithLastSubmission: true },
    );
    ctx.respond = false;
  });

  router.post('/:uid/abort', async function abortInteraction(ctx) {
    const interaction = await loadInteraction(ctx);
    const form = formFields(ctx, ['csrf']);
    checkCsrf(ctx, `interaction:${interaction.uid}`, form.csrf);
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'The card holder cancelled the request.' },
      { mergeWithLastSubmission: false },
    );
    ctx.respond = false;
  });

  return router;
}
