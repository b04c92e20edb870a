import Router from '@koa/router';
import { attemptSource } from '../http/device-cookie.ts';
import { currentLocale } from '../http/locale.ts';
import type { ThrottleDeps } from '../throttles/guard-attempt.ts';
import { guardProof } from '../throttles/guard-proof.ts';
import { ApplicationRefusedError, UNTOLD_REVIEW_REASONS } from './application-errors.ts';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { formPages, type FormPage } from '../http/form-page.ts';
import type { Renderer } from '../http/render.ts';
import { contentSecurityPolicy } from '../http/security-headers.ts';
import { jsonBody } from '../http/validate.ts';
import { randomToken } from '../lib/ids.ts';
import { formatMoney } from '../lib/money.ts';
import type { ApplicationDeps } from './application-deps.ts';
import { APPLICATION_FIELDS, parseApplication, SECRET_FIELDS, type ApplicationInput, type InputRules } from './application-input.ts';
import { apply } from './apply.ts';
import { formatCardNumber } from './card-number.ts';
import type { ApplicationOutcome } from './open-holder-account.ts';

export interface ApplicationRouteDeps {
  parseBody: Middleware;
  applications: ApplicationDeps;
  render: Renderer;
  /** A guardian's card password counts against the same throttle and lockout as the login page. */
  throttle: ThrottleDeps;
}

/** 201 when the card works now, 202 when it waits for the operator's review. */
const statusOf = (o: ApplicationOutcome): number => (o.status === 'approved' ? 201 : 202);

/** The JSON answer to an application: the only time the full card number is ever sent. */
function presentOutcome(o: ApplicationOutcome) {
  return {
    application_id: o.applicationId,
    status: o.status,
    ...(o.reviewReason && !UNTOLD_REVIEW_REASONS.has(o.reviewReason) ? { review_reason: o.reviewReason } : {}),
    card_id: o.cardId,
    card_status: o.status === 'approved' ? 'active' : 'pending',
    card_number: o.cardNumber,
    last4: o.last4,
    credit_limit: o.creditLimit,
    currency: o.currency,
    guardian_linked: o.guardianAccountId !== null,
    message:
      o.status === 'approved'
        ? 'Your card is active. Store the card number now: it is not shown again.'
        : 'Your application is being reviewed; you will be notified. The card works once approved. Store the card number now: it is not shown again.',
  };
}

/**
 * Applying for a card: the hosted form (GET/POST /apply, with its result page) and the JSON API
 * (POST /api/applications). Both validate with parseApplication and decide with apply(); the card
 * number is answered once in the response body, never put in a URL (no redirect after the POST) or a log.
 */
export function applicationRoutes({ parseBody, applications, render, throttle }: ApplicationRouteDeps): Router {
  const router = new Router();
  const { show, submit } = formPages(render);
  const { policy } = applications;

  const rules: InputRules = {
    mobileCallingCode: policy.mobileCallingCode,
    issuerPrefix: applications.cards.issuerPrefix,
    timeZone: applications.timeZone,
    ...(applications.now ? { now: applications.now } : {}),
  };

  /** parseApplication as a zod schema, so the form gets formPages' kept values and per-field messages. */
  const formSchema = z.unknown().transform((raw, ctx): ApplicationInput => {
    try {
      return parseApplication(raw, rules);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const [field, message] of Object.entries(err.fields ?? {})) ctx.addIssue({ code: 'custom', message, path: [field] });
      return z.NEVER;
    }
  });

  const page: FormPage<typeof formSchema> = {
    view: 'cards/apply',
    title: 'Apply for a cyber card',
    purpose: 'apply',
    fields: APPLICATION_FIELDS,
    keep: APPLICATION_FIELDS.filter((f) => !SECRET_FIELDS.has(f)),
    schema: formSchema,
    locals: { minimumAge: policy.minimumAge, adultAge: policy.adultAge, callingCode: policy.mobileCallingCode },
  };

  async function showIssued(ctx: Context, input: ApplicationInput, o: ApplicationOutcome): Promise<void> {
    const nonce = randomToken(16);
    ctx.status = statusOf(o);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', contentSecurityPolicy(nonce));
    ctx.body = await render('cards/issued', {
      title: o.status === 'approved' ? 'Your cyber card' : 'Application under review',
      pending: o.status !== 'approved',
      cardNumber: formatCardNumber(o.cardNumber),
      legalName: input.legalName,
      creditLimit: formatMoney(o.creditLimit, o.currency, currentLocale()),
      guardianLinked: o.guardianAccountId !== null,
      nonce,
    });
  }

  /** apply(), with a minor's guardian proof (card number and password) under the throttle and lockout. */
  function decide(ctx: Context, input: ApplicationInput) {
    const run = () => apply(applications, input, { ip: ctx.ip, requestId: ctx.state.requestId, locale: currentLocale() });
    if (!input.guardian) return run();
    const wrongGuardian = (err: unknown) => err instanceof ApplicationRefusedError && err.reason === 'guardian_invalid';
    return guardProof(throttle, { source: attemptSource(ctx), cardNumber: input.guardian.cardNumber }, run, wrongGuardian);
  }

  router.get('/apply', function applyForm(ctx) {
    return show(ctx, page);
  });

  router.post('/apply', parseBody, function applyByForm(ctx) {
    return submit(ctx, page, async (input) => {
      const outcome = await decide(ctx, input);
      await showIssued(ctx, input, outcome);
    });
  });

  router.post('/api/applications', parseBody, async function applyByApi(ctx) {
    ctx.set('Cache-Control', 'no-store');
    const input = parseApplication(jsonBody(ctx), rules);
    const outcome = await decide(ctx, input);
    ctx.status = statusOf(outcome);
    ctx.body = presentOutcome(outcome);
  });

  return router;
}
