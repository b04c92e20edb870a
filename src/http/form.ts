import type { Context } from 'koa';
import { ValidationError } from '../errors.ts';

/** C0/C1 controls except tab, newline and carriage return; U+FFFD marks bytes that were not UTF-8. */
export const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD]/;

/**
 * The submitted form as a flat string map. Repeated fields, nested objects, control characters
 * and invalid UTF-8 are refused with a ValidationError naming the field.
 */
export function formFields(ctx: Context, names: readonly string[]): Record<string, string> {
  const { values, refused } = readForm(ctx, names);
  if (refused) throw refused;
  return values;
}

/**
 * The submitted form as formFields reads it, without throwing: `values` holds every field that could be read, and
 * `refused` the ValidationError naming those that could not, for a page that shows the form again with what it kept.
 */
export function readForm(ctx: Context, names: readonly string[]): { values: Record<string, string>; refused?: ValidationError } {
  const body = (ctx.request as { body?: unknown }).body;
  const raw = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const out: Record<string, string> = {};
  const fields: Record<string, string> = {};
  for (const name of names) {
    const v = raw[name];
    if (v === undefined) continue;
    if (typeof v !== 'string') {
      fields[name] = 'Send this field once, as text.';
      continue;
    }
    if (FORBIDDEN.test(v)) {
      fields[name] = 'Contains characters that are not allowed.';
      continue;
    }
    out[name] = v;
  }
  return Object.keys(fields).length ? { values: out, refused: new ValidationError('Some fields could not be read.', fields) } : { values: out };
}
