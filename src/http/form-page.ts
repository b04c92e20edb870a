import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError, ValidationError } from '../errors.ts';
import { csrfToken, checkCsrf } from './csrf.ts';
import { readForm } from './form.ts';
import type { Renderer } from './render.ts';
import { fieldErrors } from './validate.ts';

/** A hosted form: its view, its csrf purpose, the fields it reads, and the schema that checks them. */
export interface FormPage<S extends z.ZodType = z.ZodType> {
  view: string;
  title: string;
  /** CSRF purpose: a token for one form family is useless for another. */
  purpose: string;
  fields: readonly string[];
  /** Fields whose values come back in a re-rendered form (never passwords or codes). */
  keep: readonly string[];
  schema: S;
  locals?: Record<string, unknown>;
  /**
   * For a form whose every field is its own (it names no account: the session does), the sentence that refuses a post
   * carrying any other field, each named, rather than ignore it; absent, other fields are not read.
   */
  onlyItsFields?: string;
}

export interface ShowOptions {
  status?: number;
  values?: Record<string, string>;
  fields?: Record<string, string>;
  error?: string;
  /** The refusal's code (AppError.code), for a view that offers the next step (partials/next-step.ejs). */
  errorCode?: string;
  notice?: string;
}

function kept(page: FormPage, values: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(page.keep.filter((k) => values?.[k] !== undefined).map((k) => [k, values![k]!]));
}

/** Shows and handles hosted forms the one way: csrf, per-field errors, kept values, untouched database on refusal. */
export function formPages(render: Renderer) {
  async function show(ctx: Context, page: FormPage, opts: ShowOptions = {}): Promise<void> {
    ctx.status = opts.status ?? 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await render(page.view, {
      title: page.title,
      ...page.locals,
      csrf: csrfToken(ctx, page.purpose),
      values: opts.values ?? {},
      fields: opts.fields ?? {},
      error: opts.error ?? null,
      errorCode: opts.errorCode ?? null,
      notice: opts.notice ?? null,
    });
  }

  /**
   * Reads, checks and validates the submitted form, then runs `act` with the parsed input. Bad input and
   * refusals the holder may see (wrong password, wrong code, …) re-render the form with its values kept (a 429's
   * Retry-After set).
   */
  async function submit<S extends z.ZodType>(ctx: Context, page: FormPage<S>, act: (input: z.output<S>) => Promise<void>): Promise<void> {
    const { values: raw, refused } = readForm(ctx, [...page.fields, 'csrf']);
    if (refused) return show(ctx, page, { status: 400, error: refused.message, fields: refused.fields ?? {}, values: kept(page, raw) });
    checkCsrf(ctx, page.purpose, raw.csrf);
    const values = kept(page, raw);
    const parsed = page.schema.safeParse(raw);
    if (!parsed.success) {
      return show(ctx, page, { status: 400, error: 'Some fields need attention.', fields: fieldErrors(parsed.error), values });
    }
    try {
      if (page.onlyItsFields) refuseOtherFields(ctx, [...page.fields, 'csrf'], page.onlyItsFields);
      await act(parsed.data);
    } catch (err) {
      const refusal = shownRefusal(ctx, err);
      return show(ctx, page, { status: refusal.status, error: refusal.message, errorCode: refusal.code, fields: refusal.fields ?? {}, values });
    }
  }

  return { show, submit };
}

/** Refuses, with `sentence`, a posted form carrying fields beyond `names`, each named. */
function refuseOtherFields(ctx: Context, names: readonly string[], sentence: string): void {
  const body = (ctx.request as { body?: unknown }).body;
  const extra = Object.keys(body && typeof body === 'object' ? body : {}).filter((k) => !names.includes(k));
  if (extra.length) throw new ValidationError(sentence, Object.fromEntries(extra.map((k) => [k, 'Not a field of this form.'])));
}

/**
 * A refusal a form page shows its user again beside the form (an exposed 4xx: a wrong password, a state that does not
 * allow the change, …), logged as one; anything else is thrown on to the error handler. A refusal that says when to
 * come back (429) says it in Retry-After on the page too, as the error handler does.
 */
export function shownRefusal(ctx: Context, err: unknown, what = 'form refused'): AppError {
  if (!(err instanceof AppError) || !err.expose || err.status >= 500) throw err;
  ctx.state.log?.info({ code: err.code, status: err.status }, what);
  const wait = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof wait === 'number') ctx.set('Retry-After', String(wait));
  return err;
}
