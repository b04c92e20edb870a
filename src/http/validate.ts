import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError, ValidationError } from '../errors.ts';

/** The first message per top-level field of a failed parse: field name → message. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) out[String(issue.path[0] ?? 'body')] ??= issue.message;
  return out;
}

/** Parses `raw` with the route's schema, or throws a ValidationError naming each bad field. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ValidationError('Some fields need attention.', fieldErrors(parsed.error));
  return parsed.data;
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super('unsupported_media_type', 'Send a JSON body (Content-Type: application/json).', { status: 415 });
  }
}

/** The JSON object a JSON API route was sent; anything else is refused before the schema runs. */
export function jsonBody(ctx: Context): Record<string, unknown> {
  if (!ctx.is('application/json')) throw new UnsupportedMediaTypeError();
  const body = (ctx.request as { body?: unknown }).body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('Send a JSON object.', { body: 'Expected a JSON object.' });
  }
  const bad = illFormedAt(body);
  if (bad !== undefined) throw new ValidationError('Send text as well-formed Unicode.', { [bad || 'body']: 'Contains a lone surrogate (\\uD800–\\uDFFF).' });
  return body as Record<string, unknown>;
}

// A UTF-16 surrogate without its pair: JSON lets "\ud800" through, but it is no character, and PostgreSQL refuses it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The top-level field holding a lone surrogate anywhere below it ('' for a key or the body itself), if any. */
function illFormedAt(v: unknown, field = ''): string | undefined {
  if (typeof v === 'string') return LONE_SURROGATE.test(v) ? field : undefined;
  if (!v || typeof v !== 'object') return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (LONE_SURROGATE.test(k)) return field;
    const found = illFormedAt(x, field || k);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A query string's parameters as single strings, only those named in `known`: an unknown parameter, or one given twice
 * (`?status=a&status=b`, which would otherwise reach a schema as an array, or be silently narrowed to one), is refused
 * under its own name, so a caller's typo never widens what it is answered.
 */
export function queryParams<K extends string>(query: Record<string, string | string[] | undefined>, known: readonly K[]): Partial<Record<K, string>> {
  // A Map, since a parameter may be named __proto__.
  const fields = new Map<string, string>();
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!(known as readonly string[]).includes(key)) fields.set(key.slice(0, 64), 'Unknown field.');
    else if (Array.isArray(value)) fields.set(key, 'Give it once.');
    else if (value !== undefined) out[key as K] = value;
  }
  if (fields.size) throw new ValidationError('Some fields need attention.', Object.fromEntries([...fields].slice(0, 10)));
  return out;
}
