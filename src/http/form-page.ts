import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError, ValidationError } from '../errors.ts';
import { csrfToken, checkCsrf } from './csrf.ts';
import { formFields } from './form.ts';
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
    let raw: Record<string, string>;
    try {
      raw = formFields(ctx, [...page.fields, 'csrf']);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const { values } = err as ValidationError & { values?: Record<string, string> };
      return show(ctx, page, { status: 400, error: err.message, fields: err.fields ?? {}, values: kept(page, values) });
    }
    checkCsrf(ctx, page.purpose, raw.csrf);
    const values = kept(page, raw);
    const parsed = page.schema.safeParse(raw);
    if (!parsed.success) {
      return show(ctx, page, { status: 400, error: 'Some fields need attention.', fields: fieldErrors(parsed.error), values });
    }
    try {
      await act(parsed.data);
    } catch (err) {
      if (!(err instanceof AppError) || !err.expose || err.status >= 500) throw err;
      ctx.state.log?.info({ code: err.code, status: err.status }, 'form refused');
      // A refusal that says when to come back (429) says it in Retry-After on the page too, as the error handler does.
      const wait = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof wait === 'number') ctx.set('Retry-After', String(wait));
      return show(ctx, page, { status: err.status, error: err.message, errorCode: err.code, fields: err.fields ?? {}, values });
    }
  }

  return { show, submit };
}
